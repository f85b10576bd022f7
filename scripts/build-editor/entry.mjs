// The query page's editor: CodeMirror 6 with the legacy SPARQL mode, bundled by build.sh into
// kg/static/editor/codemirror.js (an IIFE that sets window.KGEditor; nothing is fetched at run time).
import { EditorState } from "@codemirror/state";
import {
  EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection,
  placeholder,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import {
  StreamLanguage, syntaxHighlighting, HighlightStyle, bracketMatching, indentOnInput,
} from "@codemirror/language";
import {
  autocompletion, completionKeymap, closeBrackets, closeBracketsKeymap, startCompletion,
} from "@codemirror/autocomplete";
import { sparql } from "@codemirror/legacy-modes/mode/sparql";
import { tags as t } from "@lezer/highlight";

const style = HighlightStyle.define([
  { tag: t.keyword, color: "#7a2a9a", fontWeight: "600" },
  { tag: t.standard(t.variableName), color: "#1f6f8b" },
  { tag: [t.variableName, t.local(t.variableName)], color: "#b35c00" },
  { tag: t.atom, color: "#2557a7" },
  { tag: t.string, color: "#2e7d32" },
  { tag: t.comment, color: "#6b7280", fontStyle: "italic" },
  { tag: t.meta, color: "#8d6e63" },
  { tag: t.operator, color: "#5d6677" },
]);

const theme = EditorView.theme({
  "&": { fontSize: "13px", border: "1px solid #d8dce4", borderRadius: "6px", background: "#fff" },
  "&.cm-focused": { outline: "2px solid #2557a7" },
  ".cm-content": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace", minHeight: "16em" },
  ".cm-scroller": { maxHeight: "60vh" },
  ".cm-tooltip-autocomplete ul li[aria-selected]": { background: "#2557a7", color: "#fff" },
  ".cm-completionDetail": { marginLeft: "0.6em", color: "#5d6677", fontStyle: "normal" },
});

/** create(parent, {doc, complete, onRun}) → {view, get(), set(text)}.
 *  `complete(context)` is a CodeMirror completion source; `onRun()` runs on Ctrl/Cmd+Enter. */
function create(parent, { doc = "", complete, onRun, label = "SPARQL query" } = {}) {
  const runKey = { key: "Mod-Enter", run: () => { if (onRun) onRun(); return true; } };
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc,
      extensions: [
        lineNumbers(), highlightActiveLineGutter(), history(), drawSelection(), indentOnInput(),
        bracketMatching(), closeBrackets(), highlightActiveLine(), placeholder("SELECT …"),
        StreamLanguage.define(sparql), syntaxHighlighting(style), theme,
        autocompletion({ override: complete ? [complete] : undefined, activateOnTyping: true }),
        keymap.of([runKey, ...completionKeymap, ...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap,
                   indentWithTab]),
        EditorView.contentAttributes.of({ "aria-label": label }),
      ],
    }),
  });
  return {
    view,
    get: () => view.state.doc.toString(),
    set(text) { view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } }); },
    insertAt(pos, text) { view.dispatch({ changes: { from: pos, insert: text } }); },
    complete: () => startCompletion(view),
  };
}

window.KGEditor = { create };
