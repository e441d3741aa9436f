"""CSS and the few lines of page JavaScript the app needs (clickable citations, scroll-to-highlight).

The JavaScript only forwards clicks as Gradio events carrying a short key ("3-2": turn 3, citation 2);
the server resolves the key against its own state, so nothing from a document is ever executed or trusted."""

# js_on_load of the citations panel: one document-level listener (registered once per page) turns clicks
# on citation links in chat messages (#cite-T-N) and on the panel's buttons into the panel's 'cite' event.
CITE_JS = """
window.__bqaCite = (key) => trigger('cite', {key: key});
if (!window.__bqaCiteHooked) {
  window.__bqaCiteHooked = true;
  document.addEventListener('click', (e) => {
    const el = e.target && e.target.closest ? e.target.closest('a[href^="#cite-"], [data-cite]') : null;
    if (!el) return;
    e.preventDefault();
    e.stopPropagation();
    const key = el.dataset.cite || (el.getAttribute('href') || '').slice(6);
    if (window.__bqaCite) window.__bqaCite(key);
  }, true);
}
"""

# js_on_load of the findings list: a click on a value chip asks for that value's place in the source.
FINDINGS_JS = """
element.addEventListener('click', (e) => {
  const el = e.target && e.target.closest ? e.target.closest('[data-finding]') : null;
  if (!el) return;
  e.preventDefault();
  trigger('pick', {key: el.dataset.finding});
});
"""

# js_on_load of every source viewer: after each update, scroll the focused highlight into the middle.
VIEWER_JS = """
const focusMark = () => {
  const box = element.querySelector('.bqa-src-body');
  const mark = element.querySelector('mark.bqa-focus') || element.querySelector('mark');
  if (!box || !mark) return;
  box.scrollTop = Math.max(0, mark.offsetTop - box.clientHeight / 3);
  element.scrollIntoView({block: 'nearest'});
};
watch('value', focusMark);
focusMark();
"""

CSS = """
.bqa-badge { display: inline-block; font-size: 0.75em; line-height: 1.5; padding: 0 0.4em; margin: 0 0.1em;
  border-radius: 4px; font-weight: 600; white-space: nowrap; vertical-align: baseline; }
.bqa-ok { background: #dcfce7; color: #166534; }
.bqa-calc { background: #dbeafe; color: #1e40af; }
.bqa-warn { background: #fee2e2; color: #991b1b; }
.bqa-none { background: #e5e7eb; color: #374151; }
.bqa-foot { font-size: 0.8em; color: #6b7280; }
.bqa-mode { font-size: 0.9em; }
.bqa-cites { display: flex; flex-direction: column; gap: 4px; }
.bqa-cites-head { font-weight: 600; margin-bottom: 2px; }
.bqa-cite, .bqa-chip { text-align: left; border: 1px solid #d1d5db; border-radius: 6px; padding: 4px 8px;
  background: #f9fafb; cursor: pointer; font-size: 0.85em; }
.bqa-cite:hover, .bqa-chip:hover { background: #fef3c7; border-color: #f59e0b; }
.bqa-chip { display: inline-block; margin: 2px 4px 2px 0; }
.bqa-empty { color: #6b7280; font-size: 0.9em; padding: 8px; }
.bqa-source { border: 1px solid #e5e7eb; border-radius: 8px; padding: 8px; }
.bqa-src-title { font-weight: 600; }
.bqa-src-sub { font-size: 0.85em; color: #4b5563; margin-bottom: 4px; }
.bqa-src-note { font-size: 0.85em; color: #991b1b; }
.bqa-src-more { font-size: 0.8em; color: #9ca3af; }
.bqa-src-body { position: relative; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 460px;
  overflow: auto; margin: 0; font-size: 0.85em; line-height: 1.6; tab-size: 4;
  font-family: ui-monospace, "Noto Sans Mono CJK SC", "Noto Sans CJK SC", monospace; }
mark.bqa-hl { background: #fde68a; padding: 0 1px; }
mark.bqa-focus { background: #f59e0b; color: #111827; outline: 2px solid #b45309; }
.bqa-findings { display: flex; flex-direction: column; gap: 6px; max-height: 560px; overflow: auto; }
.bqa-finding { border-left: 4px solid #9ca3af; padding: 4px 8px; background: #f9fafb; font-size: 0.9em; }
.bqa-sev-mismatch, .bqa-sev-shifted_column, .bqa-sev-malformed { border-left-color: #dc2626; }
.bqa-sev-missing { border-left-color: #ea580c; }
.bqa-sev-rounding { border-left-color: #2563eb; }
.bqa-sev-info { border-left-color: #9ca3af; }
.bqa-sev-mismatch .bqa-sev, .bqa-sev-shifted_column .bqa-sev, .bqa-sev-malformed .bqa-sev { background: #fee2e2; color: #991b1b; }
.bqa-sev-missing .bqa-sev { background: #ffedd5; color: #9a3412; }
.bqa-sev-rounding .bqa-sev { background: #dbeafe; color: #1e40af; }
.bqa-sev-info .bqa-sev { background: #e5e7eb; color: #374151; }
.bqa-nums { color: #374151; font-size: 0.9em; }
"""
