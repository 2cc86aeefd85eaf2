//! The Markdown report and its SVG chart, from the measurements. Every
//! verdict is computed here from the data; nothing is written in advance.

use std::fmt::Write as _;

use crate::bench::{Contender, Measured, Role, Settings, BIG_EVENT_LEN, WARM_EVENT_LEN};
use crate::peer::Dialect;
use crate::stats::Summary;

/// Where and how the run happened.
pub struct Context {
    pub date_utc: String,
    pub cpu: String,
    pub cores: usize,
    pub kernel: String,
    pub mem_gib: f64,
    pub load_before: String,
    pub load_after: String,
    pub build_info: Vec<(String, String)>,
    pub platform_bytes: Option<(u64, u64)>,
    /// Bytes of the python3 executable with its shared libraries.
    pub python_bytes: Option<u64>,
    pub settings: Settings,
    pub cold_event_len: usize,
    /// The CPU the peer and the contenders were confined to, if any.
    pub pinned: Option<usize>,
    pub elapsed_s: f64,
}

pub fn platform_name(d: Dialect) -> &'static str {
    match d {
        Dialect::Scf => "SCF",
        Dialect::Lambda => "AWS Lambda",
    }
}

/// The report's Markdown and SVG file names.
pub fn file_names(d: Dialect) -> (&'static str, &'static str) {
    match d {
        Dialect::Scf => ("report.md", "report.svg"),
        Dialect::Lambda => ("report-lambda.md", "report-lambda.svg"),
    }
}

/// The name of the README block that holds the platform's summary.
pub fn summary_marker(d: Dialect) -> &'static str {
    match d {
        Dialect::Scf => "bench:summary",
        Dialect::Lambda => "bench:lambda-summary",
    }
}

/// The contenders that were run (not the size-only builds), with their
/// figures.
fn timed<'a>(cs: &'a [Contender], m: &'a [Measured]) -> impl Iterator<Item = (&'a Contender, &'a Measured)> {
    cs.iter().zip(m).filter(|(c, _)| !c.size_only)
}

/// One issue target, evaluated.
pub struct Verdict {
    pub target: String,
    pub measured: String,
    pub pass: Option<bool>,
}

fn fmt_us(us: f64) -> String {
    if us < 100.0 {
        format!("{us:.1} µs")
    } else if us < 1000.0 {
        format!("{us:.0} µs")
    } else if us < 10_000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{:.1} ms", us / 1000.0)
    }
}

/// 1234567 -> "1,234,567".
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn ratio(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}×")
    } else if x >= 10.0 {
        format!("{x:.1}×")
    } else {
        format!("{x:.2}×")
    }
}

fn or_na<T>(r: &Result<T, String>, f: impl Fn(&T) -> String) -> String {
    match r {
        Ok(v) => f(v),
        Err(_) => "n/a".into(),
    }
}

fn mark(pass: Option<bool>) -> &'static str {
    match pass {
        Some(true) => "**pass**",
        Some(false) => "**miss**",
        None => "n/a",
    }
}

fn index_of(cs: &[Contender], role: Role) -> Option<usize> {
    cs.iter().position(|c| c.role == role && !c.size_only)
}

/// The issue's targets, for each build of this project: issue 5's on SCF,
/// issue 12's on Lambda.
pub fn verdicts(cs: &[Contender], m: &[Measured], d: Dialect) -> Vec<Verdict> {
    if d == Dialect::Lambda {
        return lambda_verdicts(cs, m);
    }
    let floor = index_of(cs, Role::Floor).map(|i| &m[i]);
    let tencent = index_of(cs, Role::TencentScf).map(|i| &m[i]);
    let mut out = Vec::new();
    for (c, ours) in timed(cs, m).filter(|(c, _)| c.role == Role::Ours) {
        let who = c.label;

        let v = floor.and_then(|f| Some(ours.cold_first()?.median / f.cold_first()?.median));
        out.push(Verdict {
            target: format!("{who}: exec → first response within 1.10× the floor (median time)"),
            measured: v.map_or("n/a".into(), ratio),
            pass: v.map(|v| v <= 1.10),
        });

        let v = floor.and_then(|f| Some(*ours.cold_ir.as_ref().ok()? as f64 / *f.cold_ir.as_ref().ok()? as f64));
        out.push(Verdict {
            target: format!("{who}: exec → first response within 2× the floor (instructions)"),
            measured: v.map_or("n/a".into(), ratio),
            pass: v.map(|v| v <= 2.0),
        });

        let v = tencent.and_then(|t| Some((ours.rss_idle.as_ref().ok()?.kib, t.rss_idle.as_ref().ok()?.kib)));
        out.push(Verdict {
            target: format!("{who}: idle peak RSS at most 1/5 of tencent_scf's"),
            measured: v.map_or("n/a".into(), |(o, t)| {
                format!("{} KiB vs {} KiB ({:.1}% of it)", thousands(o), thousands(t), 100.0 * o as f64 / t as f64)
            }),
            pass: v.map(|(o, t)| o * 5 <= t),
        });

        let v = tencent.and_then(|t| Some(t.warm_ir.as_ref().ok()?.0 / ours.warm_ir.as_ref().ok()?.0));
        out.push(Verdict {
            target: format!("{who}: warm instructions per invocation ≥ 10× fewer than tencent_scf"),
            measured: v.map_or("n/a".into(), |v| format!("{} fewer", ratio(v))),
            pass: v.map(|v| v >= 10.0),
        });

        let v = tencent.and_then(|t| Some(*t.zip.as_ref().ok()? as f64 / *ours.zip.as_ref().ok()? as f64));
        out.push(Verdict {
            target: format!("{who}: zip ≥ 100× smaller than tencent_scf's"),
            measured: v.map_or("n/a".into(), |v| format!("{} smaller", ratio(v))),
            pass: v.map(|v| v >= 100.0),
        });
    }
    out
}

/// Issue 12's targets: against `lambda_runtime` and the Lambda floor.
fn lambda_verdicts(cs: &[Contender], m: &[Measured]) -> Vec<Verdict> {
    let floor = index_of(cs, Role::Floor).map(|i| &m[i]);
    let lr = index_of(cs, Role::LambdaRuntime).map(|i| &m[i]);
    let mut out = Vec::new();
    for (c, ours) in timed(cs, m).filter(|(c, _)| c.role == Role::Ours) {
        let who = c.label;

        let v = lr.and_then(|l| Some((*ours.cold_ir.as_ref().ok()?, *l.cold_ir.as_ref().ok()?)));
        out.push(Verdict {
            target: format!("{who}: instructions exec → first response ≤ 1/20 of lambda_runtime's"),
            measured: v.map_or("n/a".into(), |(o, l)| {
                format!("{} vs {} (1/{:.0})", thousands(o), thousands(l), l as f64 / o.max(1) as f64)
            }),
            pass: v.map(|(o, l)| o * 20 <= l),
        });

        let v = lr.and_then(|l| Some((ours.rss_idle.as_ref().ok()?.kib, l.rss_idle.as_ref().ok()?.kib)));
        out.push(Verdict {
            target: format!("{who}: idle peak RSS ≤ 1/10 of lambda_runtime's"),
            measured: v.map_or("n/a".into(), |(o, l)| {
                format!("{} KiB vs {} KiB (1/{:.1})", thousands(o), thousands(l), l as f64 / o.max(1) as f64)
            }),
            pass: v.map(|(o, l)| o * 10 <= l),
        });

        let v = lr.and_then(|l| Some((*ours.zip.as_ref().ok()?, *l.zip.as_ref().ok()?)));
        out.push(Verdict {
            target: format!("{who}: zip ≤ 1/20 of lambda_runtime's"),
            measured: v.map_or("n/a".into(), |(o, l)| {
                format!("{} B vs {} B (1/{:.0})", thousands(o), thousands(l), l as f64 / o.max(1) as f64)
            }),
            pass: v.map(|(o, l)| o * 20 <= l),
        });

        let v = floor.and_then(|f| Some(ours.cold_first()?.median / f.cold_first()?.median));
        out.push(Verdict {
            target: format!("{who}: exec → first response within 1.10× the Lambda floor (median time)"),
            measured: v.map_or("n/a".into(), ratio),
            pass: v.map(|v| v <= 1.10),
        });
    }
    out
}

pub fn markdown(cs: &[Contender], m: &[Measured], ctx: &Context) -> String {
    let st = &ctx.settings;
    let d = st.dialect;
    let lambda = d == Dialect::Lambda;
    let has = |role: Role| index_of(cs, role).is_some();
    let floor = index_of(cs, Role::Floor).map(|i| &m[i]);
    let mut r = String::new();
    let w = &mut r;
    let _ = writeln!(w, "# scf-bootstrap benchmark on {}: cold start, warm path, memory and size\n", platform_name(d));
    if st.quick {
        let _ = writeln!(
            w,
            "> **Quick mode** (`scripts/bench --quick`): a smoke test with {} cold starts per contender. \
             Too few runs to quote; run `scripts/bench` for the figures.\n",
            st.cold_runs
        );
    }
    let _ = writeln!(w, "Generated by `scripts/bench` on {} in {:.0} s.  ", ctx.date_utc, ctx.elapsed_s);
    let _ = writeln!(
        w,
        "Machine: {}, {} logical cores, {:.0} GiB RAM, Linux {}; load average {} before, {} after. {}\n",
        ctx.cpu,
        ctx.cores,
        ctx.mem_gib,
        ctx.kernel,
        ctx.load_before,
        ctx.load_after,
        match ctx.pinned {
            Some(cpu) => format!("The peer and every contender ran on CPU {cpu} alone (see the README)."),
            None => "The peer and the contenders were not pinned to a CPU.".into(),
        }
    );
    if lambda {
        let _ = writeln!(
            w,
            "The peer speaks AWS Lambda's runtime API (`/2018-06-01/runtime/...`, no `init/ready`: \
             \"ready\" below is the first `/next`; the six context headers, `Content-Type: application/json`, \
             results under the request id, `202 Accepted`). `lambda_runtime` and `awslambdaric` send the echo \
             JSON-encoded, as they send every result; the peer expects each contender's own form byte for byte. \
             Ours is the Lambda variant (`--no-default-features --features lambda,crash`); the minimal build is SCF's and is not a contender here.\n"
        );
    }
    let _ = writeln!(w, "![Cold start and zip size per contender]({})\n", file_names(d).1);

    let _ = writeln!(w, "## Targets (issue {})\n", if lambda { 12 } else { 5 });
    let _ = writeln!(w, "| target | measured | verdict |\n|---|---|---|");
    for v in verdicts(cs, m, d) {
        let _ = writeln!(w, "| {} | {} | {} |", v.target, v.measured, mark(v.pass));
    }

    let _ = writeln!(
        w,
        "\n## Cold start\n\n{} starts per contender, interleaved: each round starts every contender once, in a new \
         (seeded) order each round, after a 3 ms pause; the \
         {}-byte timer event is waiting before exec. Clock: the peer's monotonic clock, from just \
         before spawn to the complete receipt of the request. Instructions: user-space, all of the \
         contender's processes, exec → first response, callgrind. Page faults: minor faults of all its processes \
         from exec to the kill right after the first response (median; `wait4` rusage), the kernel-side \
         cost of start-up that instruction counts do not see.\n",
        st.cold_runs, ctx.cold_event_len
    );
    let _ = writeln!(
        w,
        "| contender | exec → {}, median | p90 | exec → first response, median | p90 | × floor | instructions | × floor | \
         page faults |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|",
        if lambda { "first `next`" } else { "ready" }
    );
    let floor_first = floor.and_then(Measured::cold_first).map(|s| s.median);
    let floor_ir = floor.and_then(|f| f.cold_ir.as_ref().ok().copied());
    for (c, x) in timed(cs, m) {
        let ready = x.cold_ready();
        let first = x.cold_first();
        let cell =
            |s: Option<Summary>, p90: bool| s.map_or("n/a".into(), |s| fmt_us(if p90 { s.p90 } else { s.median }));
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            c.label,
            cell(ready, false),
            cell(ready, true),
            cell(first, false),
            cell(first, true),
            match (first, floor_first) {
                (Some(s), Some(f)) => ratio(s.median / f),
                _ => "n/a".into(),
            },
            or_na(&x.cold_ir, |n| thousands(*n)),
            match (&x.cold_ir, floor_ir) {
                (Ok(n), Some(f)) => ratio(*n as f64 / f as f64),
                _ => "n/a".into(),
            },
            crate::stats::quantile(&x.cold_faults, 0.5).map_or("n/a".into(), |f| thousands(f.round() as u64)),
        );
    }

    let (n1, n2) = st.cg_warm;
    let (b1, b2) = st.cg_warm_bash;
    let bash = has(Role::BashCurl);
    let _ = writeln!(
        w,
        "\n## Warm path\n\n{} runs per contender, interleaved (a new order each round), each of {} sequential {}-byte echoes after {} \
         unmeasured ones{}. \
         Latency: from the peer starting to write the event to the complete receipt of the response, per invocation, \
         pooled over the runs. Invocations/s: back to back, including the peer's replies; median of the runs. Instructions per invocation: (I(N2) − I(N1)) / (N2 − N1) with \
         N1 = {n1}, N2 = {}, all processes, callgrind{}.\n",
        st.warm_runs,
        thousands(st.warm_n as u64),
        thousands(WARM_EVENT_LEN as u64),
        st.warm_warmup,
        if bash { format!(" (bash + curl: one run of {})", thousands(st.bash_warm_n as u64)) } else { String::new() },
        thousands(n2 as u64),
        if bash { format!(" ({b1} and {b2} for bash + curl)") } else { String::new() },
    );
    let _ = writeln!(
        w,
        "| contender | runs × invocations | latency, median | p90 | invocations/s | instructions per invocation |\n\
         |---|--:|--:|--:|--:|--:|"
    );
    for (c, x) in timed(cs, m) {
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} |",
            c.label,
            or_na(&x.warm, |v| format!("{} × {}", v.runs, thousands(v.n as u64))),
            or_na(&x.warm, |v| fmt_us(v.latency.median)),
            or_na(&x.warm, |v| fmt_us(v.latency.p90)),
            or_na(&x.warm, |v| thousands(v.per_sec.round() as u64)),
            or_na(&x.warm_ir, |v| thousands(v.0.round() as u64)),
        );
    }

    let _ = writeln!(
        w,
        "\n## Peak memory\n\nVmHWM from /proc/PID/status, in KiB: *idle* when the first `/next` \
         arrives with no event to give; *6 MB* when the response to one {}-byte event has arrived.{}\n",
        thousands(BIG_EVENT_LEN as u64),
        if bash {
            " For bash + curl it is the sum over the processes alive at that moment (bash and the \
             waiting curl; helpers that already exited are not counted)."
        } else {
            ""
        }
    );
    let _ = writeln!(w, "| contender | idle | after a 6 MB event |\n|---|--:|--:|");
    let rss = |r: &Result<crate::bench::Rss, String>| match r {
        Ok(v) if v.processes > 1 => format!("{} ({} processes)", thousands(v.kib), v.processes),
        Ok(v) => thousands(v.kib),
        Err(e) => format!("fails: {}", e.replace('|', "\\|")),
    };
    for (c, x) in timed(cs, m) {
        let _ = writeln!(w, "| {} | {} | {} |", c.label, rss(&x.rss_idle), rss(&x.rss_big));
    }

    let _ = writeln!(
        w,
        "\n## Size\n\nBytes. *Files*: what goes into the function zip (the stripped binary; {}). \
         *Zip*: those files deflated at level 9 (`zip -r -9 -X`). The aarch64 rows are the same builds for \
         `aarch64-unknown-linux-musl` (AWS Lambda arm64), sizes only: they are not run.",
        if lambda {
            "for awslambdaric the `bootstrap` script, `index.py` and awslambdaric 4.2.2 with its dependencies as \
             `pip install --target` vendors them (`simplejson`, `snapshot_restore_py`, the `runtime_client` extension)"
        } else {
            "for bash + curl the two scripts"
        }
    );
    if let (true, Some(py)) = (has(Role::PythonRic), ctx.python_bytes) {
        let _ = writeln!(
            w,
            "The Python interpreter is not in that zip: `provided.al2023` has none (a function would have to bring \
             one, or use a managed `python3.x` runtime, whose image already holds awslambdaric); python3 is {} \
             bytes with its shared libraries here, plus its standard library.",
            thousands(py)
        );
    }
    if let (true, Some((bash, curl))) = (bash, ctx.platform_bytes) {
        let _ = writeln!(
            w,
            "The bash + curl zip holds only the scripts: bash ({} bytes with its shared libraries) and \
             curl ({} bytes with its shared libraries) are provided by the platform's image and are not \
             in the zip.",
            thousands(bash),
            thousands(curl)
        );
    }
    let _ = writeln!(w, "\n| contender | files | zip |\n|---|--:|--:|");
    for (c, x) in cs.iter().zip(m) {
        let _ = writeln!(
            w,
            "| {} | {} | {} |",
            c.label,
            or_na(&x.size, |n| thousands(*n)),
            or_na(&x.zip, |n| thousands(*n))
        );
    }

    let failures: Vec<String> = timed(cs, m)
        .flat_map(|(c, x)| {
            let mut v = Vec::new();
            if !x.cold_failures.is_empty() {
                v.push(format!(
                    "{}: {} failed cold start(s), first: {}",
                    c.label,
                    x.cold_failures.len(),
                    x.cold_failures[0]
                ));
            }
            for (what, r) in [
                ("warm path", x.warm.as_ref().err()),
                ("instructions, cold", x.cold_ir.as_ref().err()),
                ("instructions, warm", x.warm_ir.as_ref().err()),
                ("peak RSS, idle", x.rss_idle.as_ref().err()),
                ("peak RSS, 6 MB", x.rss_big.as_ref().err()),
            ] {
                if let Some(e) = r {
                    v.push(format!("{}: {what}: {e}", c.label));
                }
            }
            v
        })
        .collect();
    if !failures.is_empty() {
        let _ = writeln!(w, "\n## What did not work\n");
        for f in failures {
            let _ = writeln!(w, "- {f}");
        }
    }

    let _ = writeln!(w, "\n## Builds and tools\n");
    for (k, v) in &ctx.build_info {
        let _ = writeln!(w, "- {k}: {v}");
    }
    let _ = writeln!(w, "\nMethod and caveats: [bench/README.md](README.md).");
    r
}

/// The headline table, for a README: one row per contender, the figures
/// the issue's targets are about.
/// `report` is the link to the full report from where the table goes. On
/// Lambda the issue's targets follow as a table of their own.
pub fn summary(cs: &[Contender], m: &[Measured], ctx: &Context, report: &str) -> String {
    let floor = index_of(cs, Role::Floor).map(|i| &m[i]);
    let floor_first = floor.and_then(Measured::cold_first).map(|s| s.median);
    let d = ctx.settings.dialect;
    let mut w = String::new();
    let _ = writeln!(
        w,
        "| contender | exec → first response (median) | × floor | instructions, exec → first response | \
         warm latency (median) | warm instructions per invocation | idle peak RSS | zip |\n\
         |---|--:|--:|--:|--:|--:|--:|--:|"
    );
    for (c, x) in timed(cs, m) {
        let first = x.cold_first();
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            c.label,
            first.map_or("n/a".into(), |s| fmt_us(s.median)),
            match (first, floor_first) {
                (Some(s), Some(f)) => ratio(s.median / f),
                _ => "n/a".into(),
            },
            or_na(&x.cold_ir, |n| thousands(*n)),
            or_na(&x.warm, |v| fmt_us(v.latency.median)),
            or_na(&x.warm_ir, |v| thousands(v.0.round() as u64)),
            or_na(&x.rss_idle, |v| format!("{} KiB", thousands(v.kib))),
            or_na(&x.zip, |n| format!("{} B", thousands(*n))),
        );
    }
    let verdicts = verdicts(cs, m, d);
    let passed = verdicts.iter().filter(|v| v.pass == Some(true)).count();
    let _ = writeln!(
        w,
        "\n{}{} of {} target checks pass ([report]({report})). {}, {} logical cores, Linux {}, {}; {} cold starts \
         per contender.",
        if ctx.settings.quick { "Quick mode (a smoke test, too few runs to quote). " } else { "" },
        passed,
        verdicts.len(),
        ctx.cpu,
        ctx.cores,
        ctx.kernel,
        ctx.date_utc,
        ctx.settings.cold_runs
    );
    if d == Dialect::Lambda {
        let _ = writeln!(w, "\n| target (issue 12) | measured | verdict |\n|---|---|---|");
        for v in &verdicts {
            let _ = writeln!(w, "| {} | {} | {} |", v.target, v.measured, mark(v.pass));
        }
    }
    w
}

/// Replaces what lies between the `<!-- NAME:begin -->` and
/// `<!-- NAME:end -->` lines of `doc` with `summary`.
pub fn splice(doc: &str, name: &str, summary: &str) -> Option<String> {
    let begin = format!("<!-- {name}:begin -->");
    let end = format!("<!-- {name}:end -->");
    let b = doc.find(&begin)? + begin.len();
    let e = b + doc[b..].find(&end)?;
    Some(format!("{}\n{}{}", &doc[..b], summary, &doc[e..]))
}

/// Escapes text for SVG.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// One horizontal bar chart panel with a log10 axis.
struct Panel<'a> {
    title: &'a str,
    /// Formats a bar's value, and a decade of the axis.
    unit: fn(f64) -> String,
    axis: fn(f64) -> String,
    rows: Vec<Row<'a>>,
    legend: &'a str,
}

/// One contender in a panel.
struct Row<'a> {
    label: &'a str,
    color: &'a str,
    /// (value, opacity); the first bar may carry a whisker.
    bars: Vec<(f64, f64)>,
    whisker: Option<f64>,
}

const W: f64 = 920.0;
const LABEL_W: f64 = 270.0;
const PLOT_X: f64 = LABEL_W + 10.0;
const PLOT_W: f64 = W - PLOT_X - 110.0;
const ROW_H: f64 = 30.0;

fn panel(svg: &mut String, p: &Panel, y0: f64) -> f64 {
    let values: Vec<f64> =
        p.rows.iter().flat_map(|r| r.bars.iter().map(|b| b.0).chain(r.whisker)).filter(|v| *v > 0.0).collect();
    let (mut lo, mut hi) = (f64::MAX, f64::MIN);
    for v in &values {
        lo = lo.min(v.log10().floor());
        hi = hi.max(v.log10().ceil());
    }
    if values.is_empty() {
        (lo, hi) = (0.0, 1.0);
    }
    if hi <= lo {
        hi = lo + 1.0;
    }
    let x = |v: f64| PLOT_X + (v.max(10f64.powf(lo)).log10() - lo) / (hi - lo) * PLOT_W;
    let _ = writeln!(svg, r#"<text x="10" y="{}" class="title">{}</text>"#, y0 + 18.0, esc(p.title));
    let _ = writeln!(svg, r#"<text x="10" y="{}" class="legend">{}</text>"#, y0 + 36.0, esc(p.legend));
    let top = y0 + 48.0;
    let bottom = top + ROW_H * p.rows.len() as f64;
    for d in lo as i32..=hi as i32 {
        let v = 10f64.powi(d);
        let gx = x(v);
        let _ = writeln!(svg, r#"<line x1="{gx:.1}" y1="{top}" x2="{gx:.1}" y2="{bottom}" class="grid"/>"#);
        let _ = writeln!(
            svg,
            r#"<text x="{gx:.1}" y="{}" class="axis" text-anchor="middle">{}</text>"#,
            bottom + 14.0,
            esc(&(p.axis)(v))
        );
    }
    for (i, Row { label, color, bars, whisker }) in p.rows.iter().enumerate() {
        let ry = top + ROW_H * i as f64;
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" class="label" text-anchor="end">{}</text>"#,
            LABEL_W,
            ry + ROW_H / 2.0 + 4.0,
            esc(label)
        );
        let bh = (ROW_H - 10.0) / bars.len().max(1) as f64;
        for (j, (v, opacity)) in bars.iter().enumerate() {
            let by = ry + 5.0 + bh * j as f64;
            if *v <= 0.0 {
                let _ = writeln!(svg, r#"<text x="{PLOT_X}" y="{}" class="value">n/a</text>"#, by + bh - 3.0);
                continue;
            }
            let bw = (x(*v) - PLOT_X).max(1.0);
            let _ = writeln!(
                svg,
                r#"<rect x="{PLOT_X}" y="{by:.1}" width="{bw:.1}" height="{:.1}" fill="{color}" fill-opacity="{opacity}"/>"#,
                bh - 1.0
            );
            let end = whisker.filter(|_| j == 0).map_or(x(*v), |w| x(w).max(x(*v)));
            let _ = writeln!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" class="value">{}</text>"#,
                end + 4.0,
                by + bh / 2.0 + 3.5,
                esc(&(p.unit)(*v))
            );
        }
        if let (Some(w), Some((v, _))) = (whisker, bars.first()) {
            let (x1, x2) = (x(*v), x(*w));
            let cy = ry + 5.0 + bh / 2.0;
            let _ = writeln!(svg, r#"<line x1="{x1:.1}" y1="{cy:.1}" x2="{x2:.1}" y2="{cy:.1}" class="whisker"/>"#);
            let _ = writeln!(
                svg,
                r#"<line x1="{x2:.1}" y1="{:.1}" x2="{x2:.1}" y2="{:.1}" class="whisker"/>"#,
                cy - 4.0,
                cy + 4.0
            );
        }
    }
    bottom + 24.0
}

fn color(role: Role) -> &'static str {
    match role {
        Role::Floor => "#7f7f7f",
        Role::Ours => "#1f6fb4",
        Role::TencentScf => "#d9822b",
        Role::BashCurl => "#b23b3b",
        Role::LambdaRuntime => "#d9822b",
        Role::PythonRic => "#3b8b5a",
    }
}

fn unit_time(us: f64) -> String {
    fmt_us(us)
}

fn axis_time(us: f64) -> String {
    match us {
        v if v < 1e3 => format!("{v:.0} µs"),
        v if v < 1e6 => format!("{:.0} ms", v / 1e3),
        v => format!("{:.0} s", v / 1e6),
    }
}

fn axis_bytes(b: f64) -> String {
    match b {
        v if v < 1e3 => format!("{v:.0} B"),
        v if v < 1e6 => format!("{:.0} kB", v / 1e3),
        v => format!("{:.0} MB", v / 1e6),
    }
}

fn unit_bytes(b: f64) -> String {
    if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.1} kB", b / 1e3)
    } else {
        format!("{b:.0} B")
    }
}

pub fn svg(cs: &[Contender], m: &[Measured], ctx: &Context) -> String {
    let cold = Panel {
        title: "Cold start: exec → first response (log scale)",
        unit: unit_time,
        axis: axis_time,
        legend: if ctx.settings.dialect == Dialect::Lambda {
            "bar: median, whisker: p90; lighter bar: exec → first /next (median)"
        } else {
            "bar: median, whisker: p90; lighter bar: exec → init/ready (median)"
        },
        rows: timed(cs, m)
            .map(|(c, x)| {
                let first = x.cold_first();
                let ready = x.cold_ready();
                Row {
                    label: c.label,
                    color: color(c.role),
                    bars: vec![(first.map_or(0.0, |s| s.median), 0.9), (ready.map_or(0.0, |s| s.median), 0.45)],
                    whisker: first.map(|s| s.p90),
                }
            })
            .collect(),
    };
    let size = Panel {
        title: "Size (log scale)",
        unit: unit_bytes,
        axis: axis_bytes,
        legend: if ctx.settings.dialect == Dialect::Lambda {
            "bar: function zip (deflate -9); lighter bar: files in it. awslambdaric: scripts and packages, \
             not the Python interpreter"
        } else {
            "bar: function zip (deflate -9); lighter bar: files in it (stripped binary or scripts). \
             bash + curl: the scripts only, bash and curl come with the platform"
        },
        rows: cs
            .iter()
            .zip(m)
            .map(|(c, x)| {
                let z = *x.zip.as_ref().unwrap_or(&0) as f64;
                let s = *x.size.as_ref().unwrap_or(&0) as f64;
                Row { label: c.label, color: color(c.role), bars: vec![(z, 0.9), (s, 0.45)], whisker: None }
            })
            .collect(),
    };
    let mut body = String::new();
    let y = panel(&mut body, &cold, 10.0);
    let y = panel(&mut body, &size, y + 10.0);
    let foot = format!(
        "{}{}, {}; {} cold starts per contender; {}",
        if ctx.settings.quick { "QUICK MODE (smoke test), " } else { "" },
        platform_name(ctx.settings.dialect),
        ctx.date_utc,
        ctx.settings.cold_runs,
        ctx.cpu
    );
    let h = y + 16.0;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{h}" viewBox="0 0 {W} {h}" font-family="Helvetica, Arial, sans-serif">"#
    );
    let _ = writeln!(
        svg,
        "<style>.title{{font-size:15px;font-weight:bold}} .legend{{font-size:11px;fill:#555}} \
         .label{{font-size:12px}} .value{{font-size:11px}} .axis{{font-size:10px;fill:#666}} \
         .grid{{stroke:#ddd;stroke-width:1}} .whisker{{stroke:#222;stroke-width:1.2}}</style>"
    );
    let _ = writeln!(svg, r#"<rect width="{W}" height="{h}" fill="white"/>"#);
    svg.push_str(&body);
    let _ = writeln!(svg, r#"<text x="10" y="{}" class="legend">{}</text>"#, h - 8.0, esc(&foot));
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splices_between_the_markers() {
        let doc = "a\n<!-- bench:summary:begin -->\nold\n<!-- bench:summary:end -->\nb\n";
        let out = splice(doc, "bench:summary", "new\n").unwrap();
        assert_eq!(out, "a\n<!-- bench:summary:begin -->\nnew\n<!-- bench:summary:end -->\nb\n");
        assert_eq!(splice(&out, "bench:summary", "new\n").unwrap(), out);
        assert!(splice("no markers", "bench:summary", "x").is_none());
        // Each platform's block is its own.
        assert!(splice(doc, "bench:lambda-summary", "x").is_none());
    }

    /// Figures for one contender: cold median time (µs), instructions to
    /// the first response, idle RSS (KiB), zip (bytes).
    fn measured(first_us: f64, ir: u64, rss: u64, zip: u64) -> Measured {
        let mut m = Measured::new();
        m.cold_first_us = vec![first_us];
        m.cold_ir = Ok(ir);
        m.rss_idle = Ok(crate::bench::Rss { kib: rss, processes: 1 });
        m.zip = Ok(zip);
        m
    }

    #[test]
    fn computes_issue_12s_targets_at_their_bounds() {
        let cs = crate::bench::LAMBDA_CONTENDERS;
        let ids: Vec<&str> = cs.iter().map(|c| c.id).collect();
        assert_eq!(ids, ["floor", "bootstrap", "lambda_runtime", "awslambdaric", "bootstrap-aarch64"]);
        let verdicts = |ours: Measured| {
            let m = [
                measured(100.0, 5_000, 20, 3_000),
                ours,
                measured(300.0, 200_000, 1_000, 800_000),
                measured(40_000.0, 1e8 as u64, 14_000, 770_000),
                measured(0.0, 0, 0, 32_000),
            ];
            lambda_verdicts(&cs, &m).into_iter().map(|v| v.pass).collect::<Vec<_>>()
        };
        // Exactly at each bound: 1/20 of the instructions, 1/10 of the
        // RSS, 1/20 of the zip, 1.10x the floor's time.
        assert_eq!(verdicts(measured(110.0, 10_000, 100, 40_000)), [Some(true); 4]);
        // Just past each one.
        assert_eq!(verdicts(measured(110.5, 10_001, 101, 40_001)), [Some(false); 4]);
        // A figure that is missing gives no verdict, not a pass.
        let mut m = measured(100.0, 1, 1, 1);
        m.cold_ir = Err("valgrind not found".into());
        assert_eq!(verdicts(m)[0], None);
    }

    #[test]
    fn formats_numbers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(fmt_us(7.64), "7.6 µs");
        assert_eq!(fmt_us(183.4), "183 µs");
        assert_eq!(fmt_us(1834.0), "1.83 ms");
        assert_eq!(fmt_us(18340.0), "18.3 ms");
        assert_eq!(ratio(1.034), "1.03×");
        assert_eq!(ratio(123.4), "123×");
    }
}
