extension Dashboard {
    /// The style. States have a colour as well as their name (never the colour alone); focus is always visible;
    /// the chart's series differ by dash pattern as well as by colour.
    static let style = """
        body { font: 14px/1.45 system-ui, sans-serif; margin: 0 1.5em 2em; color: #1d1d1f; background: #fff; }
        .top { display: flex; flex-wrap: wrap; gap: 1.5em; align-items: center; border-bottom: 1px solid #ccc; }
        .brand { font-weight: 700; font-size: 1.3em; margin: 0.5em 0; }
        nav ul { display: flex; gap: 1em; list-style: none; margin: 0; padding: 0; }
        nav a { display: inline-block; padding: 0.3em 0.6em; border-radius: 4px; color: #0550ae; }
        nav a[aria-current="page"] { background: #0550ae; color: #fff; text-decoration: none; font-weight: 600; }
        #who { color: #444; margin: 0 0 0 auto; }
        h1 { font-size: 1.5em; margin: 0.8em 0 0.4em; }
        h2 { font-size: 1.15em; margin-top: 1.6em; }
        a { color: #0550ae; }
        :focus-visible { outline: 3px solid #d4a72c; outline-offset: 2px; }
        h1:focus { outline: none; }
        h1:focus-visible { outline: 3px solid #d4a72c; }
        button { font: inherit; padding: 0.3em 0.9em; border: 1px solid #888; border-radius: 4px; background: #f6f8fa;
          color: #1d1d1f; cursor: pointer; }
        button:hover { background: #eaeef2; }
        button.danger { border-color: #a40e26; color: #a40e26; }
        input, select { font: inherit; padding: 0.25em 0.4em; border: 1px solid #888; border-radius: 4px; }
        label { font-weight: 600; margin-right: 0.3em; }
        .filters { display: flex; flex-wrap: wrap; gap: 0.2em 1.2em; align-items: baseline; margin: 0.6em 0; }
        .filters p { margin: 0.3em 0; }
        .status { min-height: 1.4em; margin: 0.4em 0; color: #1a7f37; }
        .error { color: #a40e26; font-weight: 600; }
        .error:empty, .status:empty { display: none; }
        .quiet { color: #555; }
        table.list { border-collapse: collapse; width: 100%; margin: 1em 0; }
        caption { text-align: left; font-weight: 600; padding: 0.3em 0; }
        th, td { text-align: left; padding: 4px 12px 4px 0; border-bottom: 1px solid #ddd; vertical-align: top; }
        thead th { font-size: 0.85em; color: #333; border-bottom: 2px solid #bbb; }
        td.num, th.num { text-align: right; }
        .summary { display: flex; flex-wrap: wrap; gap: 2em; list-style: none; padding: 0; font-size: 1.05em; }
        .state { font-weight: 600; }
        .SUCCEEDED, .READY { color: #1a7f37; }
        .FAILED, .LOST, .DOWN, .REVOKED, .UNHEALTHY { color: #a40e26; }
        .RUNNING, .STARTING { color: #0550ae; }
        .QUEUED, .ALLOCATED, .DRAINED { color: #7d4e00; }
        .CANCELED { color: #555; }
        .badge { display: inline-block; margin-left: 0.5em; padding: 0 0.4em; border: 1px solid currentColor;
          border-radius: 3px; font-size: 0.8em; font-weight: 700; }
        .badge.idle { color: #7d4e00; background: #fff8c5; }
        .state-line { font-size: 1.1em; }
        .actions { display: flex; gap: 0.8em; flex-wrap: wrap; margin: 0.6em 0; }
        .details { display: grid; grid-template-columns: max-content 1fr; gap: 0.2em 1.2em; }
        .details dt { font-weight: 600; color: #333; }
        .details dd { margin: 0; overflow-wrap: anywhere; }
        pre.log { background: #f6f8fa; border: 1px solid #ddd; padding: 0.8em; overflow: auto; height: 24em;
          white-space: pre-wrap; overflow-wrap: anywhere; }
        dialog { border: 1px solid #888; border-radius: 6px; max-width: 32em; }
        dialog::backdrop { background: rgba(0, 0, 0, 0.35); }
        .chart { margin: 0.5em 0 1em; }
        .chart svg { width: 100%; max-width: 760px; height: auto; border: 1px solid #ddd; background: #fff; }
        .chart .grid { stroke: #ddd; stroke-width: 1; }
        .chart .axis { fill: #444; font-size: 11px; }
        .chart .series { fill: none; stroke-width: 2; stroke-linejoin: round; stroke-linecap: round; }
        .chart .s0 { stroke: #0550ae; } .chart .s1 { stroke: #a40e26; } .chart .s2 { stroke: #1a7f37; }
        .chart .s3 { stroke: #7d4e00; } .chart .s4 { stroke: #6f42c1; } .chart .s5 { stroke: #0a7b83; }
        .chart .s6 { stroke: #444; } .chart .s7 { stroke: #bf3989; }
        .chart ul { list-style: none; padding: 0; }
        @media (prefers-reduced-motion: reduce) { * { scroll-behavior: auto; } }

        """
}
