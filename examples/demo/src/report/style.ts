/** The report's stylesheet: system fonts only, light and dark themes, chart colours as variables. */
export const STYLE = `
:root {
  --bg: #f6f7f9; --card: #ffffff; --ink: #1f2933; --dim: #6b7785; --rule: #e3e7ec; --grid: #edf0f3;
  --pass: #15803d; --pass-bg: #e8f6ed; --fail: #c81e1e; --fail-bg: #fdecec; --warn: #b45309; --warn-bg: #fdf3e2;
  --out: #2563eb; --back: #ea580c; --fin: #7c3aed; --reset: #dc2626; --hole: #334155; --outage: rgba(220, 38, 38, 0.10);
  --frag: #99e2d6; --coal: #c3cbf5; --conn: #86d3a0; --hb: #db2777; --rtt: #0f766e; --rtt-max: #9bb8b4; --replay: #ca8a04;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #111418; --card: #1a1f25; --ink: #e6e9ed; --dim: #8f9ba8; --rule: #2c333b; --grid: #232a31;
    --pass-bg: #12301e; --fail-bg: #3a1717; --warn-bg: #3a2a12; --pass: #4ade80; --fail: #f87171; --warn: #fbbf24;
    --out: #60a5fa; --back: #fb923c; --hole: #94a3b8; --frag: #1f6f63; --coal: #3b4a8f; --conn: #2f7d4a;
    --rtt: #5eead4; --rtt-max: #3c6b66; --replay: #facc15;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 20px 40px; }
h1 { font-size: 20px; margin: 0; }
h2 { font-size: 16px; margin: 0 0 4px; }
p { margin: 4px 0; }
.dim, .hint { color: var(--dim); }
.hint { font-size: 13px; margin-bottom: 8px; }
section, header { background: var(--card); border: 1px solid var(--rule); border-radius: 10px; padding: 16px 18px; margin-top: 16px; }
header { display: flex; gap: 18px; align-items: center; border-left-width: 8px; }
header.pass { border-left-color: var(--pass); } header.fail, header.error { border-left-color: var(--fail); } header.interrupted { border-left-color: var(--warn); }
.badge { font-weight: 700; font-size: 22px; letter-spacing: 0.04em; padding: 8px 16px; border-radius: 8px; white-space: nowrap; }
.pass .badge { color: var(--pass); background: var(--pass-bg); } .fail .badge, .error .badge { color: var(--fail); background: var(--fail-bg); }
.interrupted .badge { color: var(--warn); background: var(--warn-bg); }
.verdict { font-size: 15px; }
.meta { color: var(--dim); font-size: 13px; }
.tiles { display: grid; grid-template-columns: repeat(6, 1fr); gap: 10px; background: none; border: 0; padding: 0; }
.tile { background: var(--card); border: 1px solid var(--rule); border-radius: 10px; padding: 12px 14px; }
.tile .k { color: var(--dim); font-size: 12px; text-transform: uppercase; letter-spacing: 0.05em; }
.tile .v { font-size: 21px; font-weight: 650; margin: 2px 0; white-space: nowrap; }
.tile .s { color: var(--dim); font-size: 12px; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 16px; font-size: 12.5px; color: var(--dim); margin: 6px 0 4px; }
.legend span { display: inline-flex; align-items: center; gap: 6px; }
.sw { display: inline-block; width: 18px; height: 10px; border-radius: 2px; }
.sw.line { height: 3px; } .sw.tri { width: 0; height: 0; border-left: 6px solid transparent; border-right: 6px solid transparent; border-radius: 0; }
svg { display: block; width: 100%; height: auto; font-family: inherit; }
svg text { fill: var(--dim); font-size: 11px; }
svg .axis-title { font-size: 11.5px; } svg .lane-label { font-size: 11px; }
.grid { stroke: var(--grid); stroke-width: 1; } .frame { fill: none; stroke: var(--rule); } .lane-rule { stroke: var(--grid); }
.out-area { fill: var(--out); opacity: 0.10; } .out-line { fill: none; stroke: var(--out); stroke-width: 1.6; }
.back-line { fill: none; stroke: var(--back); stroke-width: 1.6; stroke-dasharray: 5 2; }
.offered { stroke: var(--dim); stroke-dasharray: 2 4; stroke-width: 1; }
.outage { fill: var(--outage); }
.hatch-bg { fill: var(--hole); opacity: 0.08; } .hatch-line { stroke: var(--hole); stroke-width: 1.4; opacity: 0.35; }
.hole-lane { fill: var(--hole); } .hole-band { fill: url(#hatch); }
.cut-fin .cut-mark { fill: var(--fin); } .cut-reset .cut-mark { fill: var(--reset); }
.kill-line { stroke: var(--reset); stroke-width: 2.5; } .kill-label { fill: var(--reset); font-size: 11px; font-weight: 600; }
.cut-line { stroke-width: 1; stroke-dasharray: 3 3; opacity: 0.55; } .cut-fin .cut-line { stroke: var(--fin); } .cut-reset .cut-line { stroke: var(--reset); }
.link-fragmenting { fill: var(--frag); } .link-coalescing { fill: var(--coal); }
.conn { fill: var(--conn); } svg .conn-label { fill: var(--ink); font-size: 10.5px; font-weight: 600; }
.conn-lost { stroke: var(--reset); stroke-width: 2; fill: none; } .reconnect { fill: var(--pass); }
.session-lost { fill: var(--reset); } .session-lost-line { stroke: var(--reset); stroke-width: 1.5; }
.replay-area { fill: var(--replay); opacity: 0.22; } .replay-line { fill: none; stroke: var(--replay); stroke-width: 1.4; }
.resumed { color: var(--pass); font-weight: 600; }
.hb-timeout { fill: var(--hb); stroke: var(--card); stroke-width: 1; } .hb-rtt { fill: var(--hb); }
.hb-interval { fill: none; stroke: var(--hb); stroke-width: 1.4; stroke-dasharray: 5 3; }
.rtt-p50 { fill: none; stroke: var(--rtt); stroke-width: 1.6; } .rtt-max { fill: none; stroke: var(--rtt-max); stroke-width: 1.2; }
.faults-stopped line, .interrupted line { stroke: var(--ink); stroke-dasharray: 1 3; stroke-width: 1.2; }
svg .faults-stopped text, svg .interrupted text { fill: var(--ink); font-size: 11px; }
svg .interrupted line { stroke: var(--warn); stroke-width: 2; } svg .interrupted text { fill: var(--warn); font-weight: 600; }
.bar { fill: var(--rtt); opacity: 0.8; } svg .bar-label { font-size: 10px; fill: var(--ink); }
.mark line { stroke: var(--ink); stroke-dasharray: 3 3; opacity: 0.6; } svg .mark text { fill: var(--ink); font-size: 11px; }
.rtt { display: grid; grid-template-columns: 3fr 2fr; gap: 20px; align-items: start; }
.two { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; background: none; border: 0; padding: 0; }
.two > div { background: var(--card); border: 1px solid var(--rule); border-radius: 10px; padding: 16px 18px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--rule); vertical-align: top; }
thead th { color: var(--dim); font-weight: 600; font-size: 12px; border-bottom: 2px solid var(--rule); }
th[title] { cursor: help; text-decoration: underline dotted var(--dim); }
.num { text-align: right; white-space: nowrap; }
tr.lost td:last-child { color: var(--reset); }
table.pct { margin-top: 8px; } table.pct th { font-weight: 500; color: var(--dim); }
table.counters th { width: 220px; font-weight: 600; } table.counters td.help { color: var(--dim); }
table.counters tr.sub th { padding-left: 24px; font-weight: 500; }
.fault { font-weight: 600; } .fault.FIN-cut { color: var(--fin); } .fault.reset { color: var(--reset); } .fault.black-hole { color: var(--hole); }
.checks { list-style: none; margin: 6px 0 0; padding: 0; display: grid; grid-template-columns: 1fr 1fr; column-gap: 28px; }
.checks li { display: flex; gap: 10px; padding: 6px 0; border-bottom: 1px solid var(--rule); }
.checks .mark { flex: none; font-weight: 700; width: 18px; text-align: center; }
.checks li.ok .mark { color: var(--pass); } .checks li.fail .mark { color: var(--fail); } .checks li.skip .mark { color: var(--warn); }
.checks li.fail b { color: var(--fail); }
.checks .help, .checks .detail { display: block; font-size: 12.5px; color: var(--dim); }
.checks .detail { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
footer { color: var(--dim); font-size: 12.5px; margin-top: 16px; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; background: var(--grid); padding: 1px 5px; border-radius: 4px; }
@media (max-width: 900px) { .tiles { grid-template-columns: repeat(3, 1fr); } .two, .rtt, .checks { grid-template-columns: 1fr; } }
@media print { body { background: #fff; } section, header, .tile, .two > div { break-inside: avoid; } }
`
