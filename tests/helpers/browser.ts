/**
 * Runs a TypeScript entry file inside headless Chromium, in a dedicated Web Worker of a
 * cross-origin-isolated page, and hands back what the entry's default export resolves to.
 * docs/testing-in-browsers.md describes the API; in short:
 *
 *   const skip = browserTestsSkipped("webgpu tests");          // prints one line when skipping
 *   describe.skipIf(skip)("...", () => {
 *     let browser: BrowserSession;
 *     beforeAll(async () => { browser = await openBrowser(); });
 *     afterAll(() => browser?.close());
 *     it("...", async () => { const v = await browser.run(entry("my-entry.ts")); ... });
 *   });
 *
 * Why a worker: Chrome refuses a synchronous `new WebAssembly.Module` of more than 4 KB on the main
 * thread, and the WASM kernels compile synchronously; workers have no such limit. Why the
 * COOP/COEP headers: they make the page `crossOriginIsolated`, which is what enables
 * SharedArrayBuffer (and so WebAssembly threads). Why 127.0.0.1 and not about:blank or file://:
 * WebGPU needs a secure context.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { BrowserContext, Page } from "playwright-core";

/** Debian's Chromium; `SYMTENSOR_CHROMIUM` overrides it. Never a Playwright-downloaded browser. */
export const CHROMIUM_PATH = process.env.SYMTENSOR_CHROMIUM ?? "/usr/bin/chromium";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export interface BrowserOptions {
  /** Extra Chromium command-line switches (added to `--no-sandbox --enable-unsafe-webgpu`). */
  readonly args?: readonly string[];
}

export interface RunOptions {
  /** A JSON-serializable value handed to the entry's default export as its one argument. */
  readonly input?: unknown;
  /** Milliseconds before the run is abandoned (the browser stays usable). Default 60 000. */
  readonly timeoutMs?: number;
  /** esbuild `define` entries for the bundle, e.g. `{ "process.env.N": "4" }`. */
  readonly define?: Readonly<Record<string, string>>;
}

/** A failure inside the browser: the error's message and stack, plus console errors seen so far. */
export class BrowserRunError extends Error {
  constructor(
    message: string,
    readonly browserStack: string | undefined,
    readonly consoleErrors: readonly string[],
  ) {
    super(
      message +
        (browserStack ? `\n--- browser stack ---\n${browserStack}` : "") +
        (consoleErrors.length > 0 ? `\n--- browser console errors ---\n${consoleErrors.join("\n")}` : ""),
    );
    this.name = "BrowserRunError";
  }
}

/** Whether this machine can run browser tests: Chromium at CHROMIUM_PATH and playwright-core. */
export function browserAvailable(): { ok: boolean; reason?: string } {
  if (!existsSync(CHROMIUM_PATH)) {
    return { ok: false, reason: `no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium, or scripts/setup-system.sh)` };
  }
  try {
    createRequire(import.meta.url).resolve("playwright-core");
  } catch {
    return { ok: false, reason: "playwright-core is not installed" };
  }
  return { ok: true };
}

/**
 * For `describe.skipIf(...)`: true (after printing one line with the reason) when the browser is
 * missing and SYMTENSOR_REQUIRE_BROWSER is not "1". With SYMTENSOR_REQUIRE_BROWSER=1 it returns
 * false, so the tests run and fail in openBrowser() with the reason instead of passing silently.
 */
export function browserTestsSkipped(what: string): boolean {
  const avail = browserAvailable();
  if (avail.ok || process.env.SYMTENSOR_REQUIRE_BROWSER === "1") return false;
  console.log(`[skip] ${what}: ${avail.reason}`);
  return true;
}

/** An absolute path for an entry file next to the caller: `entryPath(import.meta.url, "x.ts")`. */
export function entryPath(callerUrl: string, file: string): string {
  return resolve(dirname(fileURLToPath(callerUrl)), file);
}

/** The page: runs one bundle per call in a fresh module worker and resolves with its answer. */
const PAGE_HTML = `<!doctype html><meta charset="utf-8"><title>symtensor browser tests</title>
<script>
window.__runWorker = (url, inputJson, timeoutMs) => new Promise((resolve) => {
  const worker = new Worker(url, { type: "module" });
  worker.postMessage(inputJson);
  const finish = (answer) => { clearTimeout(timer); worker.terminate(); resolve(answer); };
  const timer = setTimeout(() => finish({ ok: false, message: "timed out after " + timeoutMs + " ms" }), timeoutMs);
  worker.onmessage = (e) => finish(e.data);
  worker.onerror = (e) => { e.preventDefault(); finish({ ok: false, message: "worker error: " + (e.message || "the worker script failed to load") + (e.filename ? " at " + e.filename + ":" + e.lineno : "") }); };
  worker.onmessageerror = () => finish({ ok: false, message: "the worker's result could not be deserialized" });
});
</script>`;

/**
 * The worker's wrapper: imports the entry, awaits its default export and posts the outcome with the
 * worker's console errors (recorded here rather than through Playwright's console events, whose
 * arrival is not ordered with the result's). The value goes through JSON so that what reaches
 * Node is exactly what a JSON-serializable contract promises (structured clone would pass Maps and
 * typed arrays that Playwright then mangles).
 */
function wrapperSource(entry: string): string {
  return `import main from ${JSON.stringify(entry)};
const consoleErrors = [];
const originalError = console.error.bind(console);
console.error = (...args) => {
  consoleErrors.push("console.error (worker): " + args.map((a) => a instanceof Error ? a.stack ?? String(a) : String(a)).join(" "));
  originalError(...args);
};
self.addEventListener("unhandledrejection", (e) => consoleErrors.push("unhandled rejection (worker): " + String(e.reason?.stack ?? e.reason)));
const describe = (e) => e instanceof Error
  ? { message: e.name + ": " + e.message, stack: e.stack }
  : { message: "non-Error thrown: " + String(e) };
// The page posts the input right after creating the worker; it is delivered once this module has
// been evaluated, so the handler below is in place.
self.onmessage = async (event) => {
  try {
    if (typeof main !== "function") throw new Error("the entry has no default export function");
    const value = await main(event.data === undefined ? undefined : JSON.parse(event.data));
    postMessage({ ok: true, json: value === undefined ? undefined : JSON.stringify(value), consoleErrors });
  } catch (e) {
    postMessage({ ok: false, ...describe(e), consoleErrors });
  }
};
`;
}

interface WorkerAnswer {
  ok: boolean;
  json?: string;
  message?: string;
  stack?: string;
  consoleErrors?: string[];
}

/** What the local server answers for one path (the page, or a bundle while its run is on). */
interface ServedFile {
  type: string;
  body: string | Uint8Array;
}

const SECURITY_HEADERS = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Cache-Control": "no-store",
};

/** One Chromium (persistent context on a temp profile), one page and one local server. */
export class BrowserSession {
  private consoleErrors: string[] = [];
  /** Console errors of the last run(), also when it succeeded (a failure puts them in the error). */
  lastConsoleErrors: readonly string[] = [];
  private nextId = 0;
  private readonly bundles = new Map<string, Uint8Array>();
  private closed = false;

  private constructor(
    private readonly files: Map<string, ServedFile>,
    private readonly server: Server,
    private readonly context: BrowserContext,
    private readonly page: Page,
    private readonly profile: string,
    readonly origin: string,
  ) {}

  /** Starts the server and the browser; reject (with the reason) when Chromium is unavailable. */
  static async open(opts: BrowserOptions = {}): Promise<BrowserSession> {
    const avail = browserAvailable();
    if (!avail.ok) throw new Error(`browser tests cannot run: ${avail.reason}`);
    const { chromium } = await import("playwright-core");
    const files = new Map<string, ServedFile>();
    files.set("/", { type: "text/html; charset=utf-8", body: PAGE_HTML });
    const server = createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0]!;
      const file = files.get(path);
      if (!file) {
        res.writeHead(404, SECURITY_HEADERS).end("not found");
        return;
      }
      res.writeHead(200, { ...SECURITY_HEADERS, "Content-Type": file.type }).end(file.body);
    });
    await new Promise<void>((ok, fail) => {
      server.once("error", fail);
      server.listen(0, "127.0.0.1", () => ok());
    });
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const profile = await mkdtemp(join(tmpdir(), "symtensor-chromium-"));
    let context: BrowserContext | undefined;
    try {
      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM_PATH,
        headless: true,
        args: ["--no-sandbox", "--enable-unsafe-webgpu", ...(opts.args ?? [])],
      });
      const page = context.pages()[0] ?? (await context.newPage());
      const session = new BrowserSession(files, server, context, page, profile, origin);
      // Worker console errors come with the worker's answer; these are the page's own.
      page.on("console", (msg) => {
        if (msg.type() === "error" && !msg.worker()) session.consoleErrors.push(`console.error (page): ${msg.text()}`);
      });
      page.on("pageerror", (err) => session.consoleErrors.push(`page error: ${err.message}`));
      page.on("crash", () => session.consoleErrors.push("the page crashed"));
      await page.goto(`${origin}/`);
      return session;
    } catch (e) {
      await context?.close().catch(() => undefined);
      await new Promise<void>((ok) => server.close(() => ok()));
      await rm(profile, { recursive: true, force: true });
      throw e;
    }
  }

  /**
   * Bundles `entry` (an absolute path to a .ts/.js file whose default export is an async function),
   * runs it in a fresh dedicated worker (called with `opts.input`), and resolves with the JSON value
   * it returned. Rejects with
   * a BrowserRunError carrying the browser-side message and stack and any console errors.
   */
  async run(entry: string, opts: RunOptions = {}): Promise<unknown> {
    if (this.closed) throw new Error("BrowserSession.run after close()");
    const path = `/bundle-${this.nextId++}.js`;
    this.files.set(path, { type: "text/javascript; charset=utf-8", body: await this.bundle(entry, opts.define ?? {}) });
    this.consoleErrors = [];
    const timeoutMs = opts.timeoutMs ?? 60_000;
    let answer: WorkerAnswer;
    try {
      answer = await this.page.evaluate(
        ([url, input, ms]) =>
          (window as unknown as { __runWorker(u: string, i: string | undefined, t: number): Promise<WorkerAnswer> }).__runWorker(url, input, ms),
        [path, opts.input === undefined ? undefined : JSON.stringify(opts.input), timeoutMs] as const,
      );
    } catch (e) {
      // The page itself failed (crashed, or the browser went away): keep what the console said.
      throw new BrowserRunError(`the page failed: ${e instanceof Error ? e.message : String(e)}`, undefined, [...this.consoleErrors]);
    } finally {
      this.files.delete(path);
    }
    const consoleErrors = [...(answer.consoleErrors ?? []), ...this.consoleErrors];
    this.lastConsoleErrors = consoleErrors;
    if (!answer.ok) throw new BrowserRunError(answer.message ?? "unknown browser error", answer.stack, consoleErrors);
    return answer.json === undefined ? undefined : (JSON.parse(answer.json) as unknown);
  }

  /**
   * The worker bundle for an entry: cached per session (a session lives for one test file, whose
   * sources do not change under it), since bundling all of src/ takes a noticeable part of a run.
   * No source map: Chrome does not apply them to `error.stack`, and the bundle keeps names and
   * `// path` comments, so stacks stay readable.
   */
  private async bundle(entry: string, define: Readonly<Record<string, string>>): Promise<Uint8Array> {
    const key = JSON.stringify([resolve(entry), define]);
    const cached = this.bundles.get(key);
    if (cached) return cached;
    const { build } = await import("esbuild");
    const out = await build({
      stdin: { contents: wrapperSource(resolve(entry)), resolveDir: REPO_ROOT, sourcefile: "symtensor-browser-wrapper.js", loader: "js" },
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "chrome120",
      write: false,
      logLevel: "silent",
      define: { ...define },
    });
    const code = out.outputFiles[0]!.contents;
    this.bundles.set(key, code);
    return code;
  }

  /** Closes the browser, deletes its profile and stops the server; safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.context.close();
    } finally {
      this.server.closeAllConnections();
      await new Promise<void>((ok) => this.server.close(() => ok()));
      await rm(this.profile, { recursive: true, force: true });
    }
  }
}

/** `BrowserSession.open` under a shorter name, for beforeAll. */
export function openBrowser(opts?: BrowserOptions): Promise<BrowserSession> {
  return BrowserSession.open(opts);
}

/**
 * One-shot: opens a browser, runs `entry`, closes everything. Prefer a shared BrowserSession when
 * a file runs several entries (a launch costs about a second).
 */
export async function runInBrowser(entry: string, opts: RunOptions & BrowserOptions = {}): Promise<unknown> {
  const session = await openBrowser(opts);
  try {
    return await session.run(entry, opts);
  } finally {
    await session.close();
  }
}
