// node build.mjs OUT: bundle entry.mjs (and its CodeMirror packages) into one minified IIFE.
//
// One change to the packages: style-mod puts CodeMirror's CSS in a <style> element, which the
// query page's Content-Security-Policy (style-src 'self') refuses. The patch makes it use a
// constructed stylesheet (document.adoptedStyleSheets: Chromium 73+, Firefox 101+, Safari 16.4+),
// which the policy does not govern, so the page needs no 'unsafe-inline' and no nonce.
import { build } from "esbuild";
import { readFile } from "node:fs/promises";

const BEFORE = "if (!root.head && root.adoptedStyleSheets && win.CSSStyleSheet) {";
const AFTER = "if (root.adoptedStyleSheets && win.CSSStyleSheet) {";

const patchStyleMod = {
  name: "style-mod-adopted-sheets",
  setup(b) {
    b.onLoad({ filter: /style-mod[\\/]src[\\/]style-mod\.js$/ }, async (args) => {
      const text = await readFile(args.path, "utf8");
      if (!text.includes(BEFORE)) throw new Error(`style-mod changed: ${args.path} no longer has the line to patch`);
      return { contents: text.replace(BEFORE, AFTER), loader: "js" };
    });
  },
};

await build({
  entryPoints: ["entry.mjs"], bundle: true, minify: true, format: "iife", target: "es2020",
  outfile: process.argv[2], legalComments: "none", plugins: [patchStyleMod],
});
