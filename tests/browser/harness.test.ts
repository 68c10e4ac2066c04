/**
 * The browser harness itself: a symtensor computation bundled and run in a headless Chromium
 * worker gives the same bits as in Node; failures come back with the browser's message, stack and
 * console errors; the page is cross-origin isolated (SharedArrayBuffer, WASM threads) and, where
 * SYMTENSOR_REQUIRE_WEBGPU=1, has a WebGPU adapter.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrowserRunError, browserTestsSkipped, entryPath, openBrowser, runInBrowser, type BrowserSession } from "../helpers/browser.js";
import nodeMlp, { type MlpResult } from "./entries/mlp.js";
import nodeEcho from "./entries/echo.js";
import type { BrowserEnvironment } from "./entries/environment.js";

const entry = (name: string) => entryPath(import.meta.url, `entries/${name}`);
const skip = browserTestsSkipped("tests/browser/harness.test.ts");

describe.skipIf(skip)("browser harness (headless Chromium, dedicated worker)", () => {
  let browser: BrowserSession;
  beforeAll(async () => {
    browser = await openBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it("runs a compiled fn() MLP in the browser with the same bits as in Node", async () => {
    const fromBrowser = (await browser.run(entry("mlp.ts"))) as MlpResult;
    const fromNode = await nodeMlp();
    expect(fromBrowser.shape).toEqual([8, 10]);
    expect(fromBrowser.dtype).toBe("float32");
    expect(fromBrowser.traceCount).toBe(1);
    // Independent sanity check of the numbers themselves: softmax rows are probabilities.
    for (let r = 0; r < 8; r++) {
      const row = fromBrowser.values.slice(r * 10, r * 10 + 10);
      expect(row.every((v) => v > 0 && v < 1)).toBe(true);
      expect(Math.abs(row.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-6);
    }
    expect(fromBrowser.hex).toBe(fromNode.hex);
    expect(fromBrowser.values).toEqual(fromNode.values);
  });

  it("passes a JSON input to the entry", async () => {
    const input = { label: "π ≈ 3.14 \u2028", values: [0.1, 0.2, -0, 1e-310, 2 ** 53] };
    const out = (await browser.run(entry("echo.ts"), { input })) as { label: string; sum: number; values: number[] };
    expect(out.label).toBe(input.label);
    expect(out.values).toEqual([0.1, 0.2, 0, 1e-310, 2 ** 53]); // JSON has no -0
    expect(out.sum).toBe((await nodeEcho(input)).sum);
  });

  it("rejects with the browser-side message and stack when the entry throws", async () => {
    const err = await browser.run(entry("throws.ts")).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BrowserRunError);
    const e = err as BrowserRunError;
    expect(e.message).toMatch(/^ShapeError: /);
    expect(e.message).toMatch(/matmul/);
    expect(e.browserStack).toMatch(/ShapeError/);
    expect(e.browserStack).toMatch(/main/);
    // The browser is still usable after a failed run.
    expect(((await browser.run(entry("mlp.ts"))) as MlpResult).shape).toEqual([8, 10]);
  });

  it("includes the browser's console errors in a failure", async () => {
    const err = (await browser.run(entry("console-error.ts")).catch((e: unknown) => e)) as BrowserRunError;
    expect(err).toBeInstanceOf(BrowserRunError);
    expect(err.message).toMatch(/^RangeError: entry failed on purpose/);
    expect(err.consoleErrors.join("\n")).toMatch(/something went wrong before the throw/);
    expect(err.message).toMatch(/browser console errors[\s\S]*something went wrong/);
  });

  it("reports an entry that does not bundle, and one whose worker fails to load", async () => {
    await expect(browser.run(entry("does-not-exist.ts"))).rejects.toThrow(/Could not resolve/);
    await expect(browser.run(entry("throws-at-load.ts"))).rejects.toThrow(/worker error: .*entry module failed while loading/);
  });

  it("gives up on an entry that never settles, within timeoutMs", async () => {
    await expect(browser.run(entry("hangs.ts"), { timeoutMs: 300 })).rejects.toThrow(/timed out after 300 ms/);
  });

  it("is cross-origin isolated, with SharedArrayBuffer, WASM threads and a WebGPU adapter", async () => {
    const env = (await browser.run(entry("environment.ts"))) as BrowserEnvironment;
    console.log(
      `[browser] ${env.userAgent}\n` +
        `[browser] crossOriginIsolated=${env.crossOriginIsolated} typeof SharedArrayBuffer=${env.sharedArrayBuffer} ` +
        `wasmThreads=${env.wasmThreads} syncWasmModule>4KB=${env.largeSyncWasmModule}\n` +
        `[browser] navigator.gpu=${env.webgpu.available} adapter=${env.webgpu.adapter ?? "null"}${env.webgpu.error ? ` error=${env.webgpu.error}` : ""}`,
    );
    expect(env.crossOriginIsolated).toBe(true);
    expect(env.sharedArrayBuffer).toBe("function");
    expect(env.wasmThreads).toBe(true);
    expect(env.largeSyncWasmModule).toBe(true);
    if (process.env.SYMTENSOR_REQUIRE_WEBGPU === "1") expect(env.webgpu.adapter, "WebGPU adapter (SYMTENSOR_REQUIRE_WEBGPU=1)").not.toBeNull();
  });
});

describe.skipIf(skip)("runInBrowser (one launch per call)", () => {
  it("opens, runs and closes", async () => {
    const v = (await runInBrowser(entry("environment.ts"))) as BrowserEnvironment;
    expect(v.crossOriginIsolated).toBe(true);
  }, 60_000);
});
