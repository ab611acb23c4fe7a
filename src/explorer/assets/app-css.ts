// The explorer page's style: plain CSS, system fonts, light and dark schemes.
export const APP_CSS = `:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --fg: #1d2330; --muted: #667085; --panel: #ffffff; --line: #d9dde5;
  --accent: #2f6feb; --allow: #177245; --allow-bg: #e3f4ea; --deny: #b42318; --deny-bg: #fde8e6;
  --dry: #8a5a00; --dry-bg: #fff3d6; --select: #e8efff;
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root { --bg: #12151b; --fg: #e6e8ee; --muted: #98a2b3; --panel: #1b2029; --line: #2e3542; --select: #22304d;
    --allow-bg: #12301f; --allow: #6fd39b; --deny-bg: #3a1512; --deny: #ff9a8f; --dry-bg: #3a2c0b; --dry: #f5c56b; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); }
h1 { font-size: 18px; margin: 0; }
h1 span { font-weight: 400; color: var(--muted); }
h2 { font-size: 15px; margin: 0 0 8px; display: flex; align-items: center; gap: 8px; }
.top { display: flex; align-items: center; gap: 16px; padding: 10px 16px; background: var(--panel); border-bottom: 1px solid var(--line); }
.status { margin: 0 0 0 auto; color: var(--muted); }
.status.live::before { content: "●"; color: var(--allow); margin-right: 6px; }
.layout { display: grid; grid-template-columns: minmax(0, 1fr) 400px; grid-template-areas: "recent recent" "detail try"; gap: 12px; padding: 12px; align-items: start; }
.recent { grid-area: recent; }
.detail { grid-area: detail; }
.try-panel { grid-area: try; }
.panel, .recent { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px; }
.muted { color: var(--muted); font-weight: 400; }
.small { font-size: 12px; margin: 6px 0 0; }
.error { color: var(--deny); margin: 8px 0 0; }
.filters { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; margin-bottom: 8px; }
label { display: flex; flex-direction: column; gap: 2px; font-size: 12px; color: var(--muted); }
label.check { flex-direction: row; align-items: center; gap: 6px; }
input, select, button { font: inherit; color: var(--fg); background: var(--bg); border: 1px solid var(--line); border-radius: 5px; padding: 4px 6px; }
.filters input { width: 112px; }
button { cursor: pointer; background: var(--panel); }
button[type="submit"] { background: var(--accent); color: #fff; border-color: var(--accent); }
.table-wrap { max-height: 42vh; overflow: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th { position: sticky; top: 0; background: var(--panel); text-align: left; font-weight: 600; color: var(--muted); border-bottom: 1px solid var(--line); padding: 4px 6px; }
td { padding: 4px 6px; border-bottom: 1px solid var(--line); white-space: nowrap; max-width: 220px; overflow: hidden; text-overflow: ellipsis; }
td.time { color: var(--muted); font-variant-numeric: tabular-nums; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr { cursor: pointer; }
tbody tr:hover, tbody tr:focus { background: var(--select); outline: none; }
tbody tr.selected { background: var(--select); box-shadow: inset 3px 0 0 var(--accent); }
.badge { display: inline-block; padding: 0 6px; border-radius: 10px; font-size: 12px; font-weight: 600; }
.badge.allow { color: var(--allow); background: var(--allow-bg); }
.badge.deny { color: var(--deny); background: var(--deny-bg); }
.badge.dry_run_deny { color: var(--dry); background: var(--dry-bg); }
.kind { display: inline-block; padding: 0 4px; border-radius: 4px; font-size: 11px; font-weight: 600; color: var(--accent); border: 1px solid var(--accent); }
.fields { display: grid; grid-template-columns: repeat(2, max-content minmax(0, 1fr)); gap: 2px 10px; margin: 0 0 8px; font-size: 13px; }
.fields dt { color: var(--muted); }
.fields dd { margin: 0; overflow-wrap: anywhere; }
.explanation { margin: 0; padding: 8px; background: var(--bg); border: 1px solid var(--line); border-radius: 6px; font: 12px/1.45 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; white-space: pre-wrap; overflow-wrap: anywhere; }
.explanation .failed { color: var(--deny); }
.explanation .applied { color: var(--allow); }
.explanation .decision { font-weight: 700; }
#close-detail { margin-left: auto; padding: 0 8px; }
.try { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 6px 8px; }
.try input:not([type="checkbox"]), .try select { width: 100%; }
.try .two { grid-column: span 2; }
.try .wide { grid-column: 1 / -1; }
.try .actions { grid-column: 1 / -1; display: flex; justify-content: space-between; align-items: center; }
@media (max-width: 980px) { .layout { grid-template-columns: 1fr; grid-template-areas: "recent" "detail" "try"; } }
`;
