'use strict';
// Renders the results object as Markdown: a targets table (stallwatch against the project's
// targets) and one comparison table per measurement (every detector against none).

const fmt = (x, digits = 1) => {
  if (x === undefined || x === null || Number.isNaN(x)) return 'n/a';
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && a < 0.01) return x.toExponential(1);
  if (a >= 10000) return Math.round(x).toLocaleString('en-US');
  return x.toFixed(a >= 100 ? 0 : digits);
};
const pct = (ratio) => (ratio === undefined || ratio === null || Number.isNaN(ratio) ? 'n/a' : `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)}%`);
const spread = (s, digits) => (s && s.n ? `${fmt(s.median, digits)} [${fmt(s.p25 ?? s.min, digits)}–${fmt(s.p75 ?? s.max, digits)}]` : 'n/a');
const ratioCell = (r) => (r && r.n ? `${pct(r.median)} (${pct(r.min)} … ${pct(r.max)})` : '');

function table(headers, rows) {
  const lines = [`| ${headers.join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`];
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

function verdict(ok) {
  if (ok === null || ok === undefined) return 'not measured';
  return ok ? '**pass**' : '**MISS**';
}

/** What stallwatch added to one part of the compile instruction counts, as % of the baseline's total. */
function addedShare(ci, part) {
  const d = ci.parts[part].stallwatch && ci.parts[part].stallwatch.diff;
  return d && d.n && ci.total.none ? `${fmt((100 * d.median) / ci.total.none.median, 1)}%` : 'n/a';
}

/** The targets, each with the measured figure and pass/miss. */
function targets(res) {
  const rows = [];
  const t = res.throughput || {};
  const thr = res.config && res.config.throughput ? res.config.throughput.thresholdMs : 100;

  const aa = (sec) => {
    const r = sec && sec['none-aa'] && sec['none-aa'].ratio;
    return r && r.n ? `; A/A control ${pct(r.median)} (${pct(r.min)} … ${pct(r.max)})` : '';
  };
  const ipr = t.instrPerReq && t.instrPerReq.stallwatch && t.instrPerReq.stallwatch.ratio;
  const direct = t.callgrindBreakdown && t.callgrindBreakdown.stallwatch;
  const directPerReq = direct ? direct.stallwatchNodePerReq + direct.uvMetricsIdleTimePerReq + direct.listenerDrivenV8PerReq - (t.callgrindBreakdown.none ? t.callgrindBreakdown.none.listenerDrivenV8PerReq : 0) : NaN;
  rows.push([
    'Instructions/request overhead ≤ 1%',
    ipr && ipr.n
      ? `${pct(ipr.median)} (${pct(ipr.min)} … ${pct(ipr.max)}), ${fmt(t.instrPerReq.none.median, 0)} → ${fmt(t.instrPerReq.stallwatch.median, 0)} instr/req (callgrind)${aa(t.instrPerReq)}; directly attributable: ${fmt(directPerReq, 0)} instr/req (${fmt((100 * directPerReq) / t.instrPerReq.none.median, 2)}%)`
      : 'n/a',
    verdict(ipr && ipr.n ? ipr.median <= 1.01 : null),
  ]);
  // The A/A control's spread: a difference smaller than this is not distinguishable from noise.
  const noiseOf = (sec) => {
    const r = sec && sec['none-aa'] && sec['none-aa'].ratio;
    return r && r.n ? Math.max(Math.abs(r.min - 1), Math.abs(r.max - 1), Math.abs(r.median - 1)) : NaN;
  };
  const withinNoise = (sec, delta) => {
    const n = noiseOf(sec);
    return Number.isFinite(n) && Math.abs(delta) < n ? ` — within the A/A noise (±${(n * 100).toFixed(1)}%): inconclusive` : '';
  };
  const p99 = t.p99us && t.p99us.stallwatch && t.p99us.stallwatch.ratio;
  const alts = t.p99us ? Object.keys(t.p99us).filter((d) => !['none', 'none-aa', 'stallwatch'].includes(d)) : [];
  const lowerThanAll = p99 && p99.n ? alts.every((d) => t.p99us[d].ratio && t.p99us[d].ratio.median > p99.median) : null;
  rows.push([
    'p99 latency overhead ≤ 1% (median ratio)',
    p99 && p99.n ? `${pct(p99.median)} (${pct(p99.min)} … ${pct(p99.max)} over ${p99.n} rounds)${aa(t.p99us)}` : 'n/a',
    verdict(p99 && p99.n ? p99.median <= 1.01 : null) + (p99 && p99.n ? withinNoise(t.p99us, p99.median - 1) : ''),
  ]);
  rows.push([
    'p99 overhead lower than every alternative',
    alts.length ? alts.map((d) => `${d} ${pct(t.p99us[d].ratio && t.p99us[d].ratio.median)}`).join(', ') : 'n/a',
    verdict(alts.length ? lowerThanAll : null) +
      (alts.length && p99 && p99.n ? withinNoise(t.p99us, Math.min(...alts.map((x) => (t.p99us[x].ratio ? t.p99us[x].ratio.median : Infinity))) - p99.median) : ''),
  ]);

  const idle = res.idle && res.idle.summary;
  const sw = idle && idle.stallwatch;
  if (sw) {
    const d = sw.loopWakeupsPerSec.diffVsNone;
    const st = res.idle.strace;
    const stLoop = st && st.stallwatch && st.none ? st.stallwatch.loopSyscallsPerSec - st.none.loopSyscallsPerSec : NaN;
    rows.push([
      'Idle: zero extra wake-ups of the event loop thread',
      `${fmt(d.median, 2)}/s extra (range ${fmt(d.min, 2)} … ${fmt(d.max, 2)}); strace: ${fmt(stLoop, 2)} extra loop syscalls/s`,
      verdict(Math.abs(d.median) < 0.5 && (!Number.isFinite(stLoop) || stLoop < 0.5)),
    ]);
    const idleThr = res.config.idle.thresholdMs;
    const allowed = 1000 / idleThr;
    rows.push([
      `Idle: watchdog ≤ about 1 wake-up per threshold (${idleThr} ms → ${fmt(allowed, 0)}/s)`,
      `${fmt(sw.watchdogWakeupsPerSec.median, 1)}/s (all stallwatch threads ${fmt(sw.stallwatchThreadsWakeupsPerSec.median, 1)}/s)`,
      verdict(sw.watchdogWakeupsPerSec.median <= allowed * 1.1),
    ]);
  }
  if (t.watchdogCpuPct) {
    rows.push([
      'Busy: watchdog CPU ≤ 0.1% of a core',
      `${fmt(t.watchdogCpuPct.median, 3)}% (max ${fmt(t.watchdogCpuPct.max, 3)}%); all stallwatch threads ${fmt(t.stallwatchThreadsCpuPct.median, 3)}%`,
      verdict(t.watchdogCpuPct.median <= 0.1),
    ]);
  }

  const det = res.detection && res.detection.summary && res.detection.summary.stallwatch;
  if (det) {
    const dt = res.config.detection.thresholdMs;
    rows.push([
      `Detection p50 ≤ threshold + 2 ms (threshold ${dt} ms)`,
      `${fmt(det.p50, 1)} ms (threshold + ${fmt(det.overThreshold.p50, 1)}) over ${det.n} stalls, ${det.missed} missed`,
      verdict(det.overThreshold.p50 <= 2 && det.missed === 0),
    ]);
    rows.push([
      'Detection p99 ≤ threshold + 10 ms',
      `${fmt(det.p99, 1)} ms (threshold + ${fmt(det.overThreshold.p99, 1)}); max ${fmt(det.max, 1)}`,
      verdict(det.overThreshold.p99 <= 10),
    ]);
  }

  const cap = res.capture && res.capture.summary;
  if (cap) {
    for (const v of ['shallow', 'deep']) {
      const c = cap[v];
      if (!c) continue;
      rows.push([
        `Capture pause p50 ≤ 30 µs (${v} stack, ${fmt(c.framesMedian, 0)} frames reported, steady state)`,
        `${fmt(c.steadyHandlerUs.p50, 1)} µs (first capture of a process: median ${fmt(c.firstCaptureUs.median, 0)} µs)`,
        verdict(c.steadyHandlerUs.p50 <= 30),
      ]);
      rows.push([
        `Capture pause p99 ≤ 100 µs (${v})`,
        `${fmt(c.steadyHandlerUs.p99, 1)} µs (max ${fmt(c.steadyHandlerUs.max, 0)} µs, n=${c.steadyHandlerUs.n})`,
        verdict(c.steadyHandlerUs.p99 <= 100),
      ]);
    }
  }

  const at = res.attach;
  if (at && at.fresh && at.fresh.attachMs.stallwatch) {
    const a = at.fresh.attachMs.stallwatch;
    rows.push(['supervise() ≤ 10 ms, fresh process', `${fmt(a.median, 2)} ms [${fmt(a.min, 2)}–${fmt(a.max, 2)}]`, verdict(a.median <= 10)]);
  }
  if (at && at.largeHeap && at.largeHeap.attachMs.stallwatch) {
    const a = at.largeHeap.attachMs.stallwatch;
    rows.push([
      `supervise() ≤ 50 ms with a ${res.config.attach.heapMB} MB heap`,
      `${fmt(a.median, 1)} ms [${fmt(a.min, 1)}–${fmt(a.max, 1)}] (${fmt(at.largeHeap.heapUsedMB.median, 0)} MB used, ${fmt(at.largeHeap.heapObjects.median / 1e6, 1)} M objects)`,
      verdict(a.median <= 50),
    ]);
  }
  const comp = res.compile && res.compile.totalMs && res.compile.totalMs.stallwatch;
  const compCpu = res.compile && res.compile.mainThreadCpuMs && res.compile.mainThreadCpuMs.stallwatch;
  const compInstr = res.compile && res.compile.instructions && res.compile.instructions.total.stallwatch;
  const timed = comp && comp.ratio && compCpu && compCpu.ratio
    ? `main-thread CPU ${pct(compCpu.ratio.median)} (${pct(compCpu.ratio.min)} … ${pct(compCpu.ratio.max)}), ${fmt(res.compile.mainThreadCpuMs.none.median, 0)} → ${fmt(compCpu.median, 0)} ms${aa(res.compile.mainThreadCpuMs)}; wall ${pct(comp.ratio.median)} (${pct(comp.ratio.min)} … ${pct(comp.ratio.max)})`
    : '';
  if (compInstr && compInstr.ratio && compInstr.ratio.n) {
    // Instruction counts resolve what timings here cannot (see the A/A controls).
    const ci = res.compile.instructions;
    rows.push([
      'Compile-heavy start-up overhead ≤ 5% (judged on instructions, callgrind, short form; timed full form shown too)',
      `instructions ${pct(compInstr.ratio.median)} (${pct(compInstr.ratio.min)} … ${pct(compInstr.ratio.max)})${aa(ci.total)}, of which V8's line ends ${addedShare(ci, 'lineEnds')}, stallwatch's code event handler ${addedShare(ci, 'handler')}, supervise() ${addedShare(ci, 'attach')} (overlapping); ${timed}`,
      verdict(compInstr.ratio.median <= 1.05),
    ]);
  } else if (timed) {
    rows.push([
      'Compile-heavy start-up overhead ≤ 5% (judged on main-thread CPU; wall time shown too)',
      timed,
      verdict(compCpu.ratio.median <= 1.05) + withinNoise(res.compile.mainThreadCpuMs, compCpu.ratio.median - 1.05),
    ]);
  }
  return table(['Target', 'Measured (stallwatch)', 'Result'], rows);
}

function comparison(title, section, metric, detectors, unit, digits = 1, note = '') {
  if (!section || !section[metric]) return '';
  const rows = detectors
    .filter((d) => section[metric][d])
    .map((d) => [d === 'none-aa' ? 'none, again (A/A control)' : d, `${spread(section[metric][d], digits)}${unit}`, d === 'none' ? '—' : ratioCell(section[metric][d].ratio)]);
  return `**${title}**${note ? ` ${note}` : ''}\n\n${table(['detector', 'median [p25–p75]', 'vs none: median (min … max) of paired rounds'], rows)}\n`;
}

function render(res) {
  const out = [];
  const m = res.machine;
  out.push(`Run ${res.date} on ${m.cpu} (${m.cores} cores), Linux ${m.kernel}, Node ${m.node}; stallwatch ${res.stallwatch.commit}${res.stallwatch.dirty ? ' (uncommitted changes)' : ''}; ${fmt(res.durationS, 0)} s.`);
  out.push('');
  const skipped = Object.entries(res.detectorsSkipped || {});
  out.push(`Detectors: ${res.detectors.join(', ')}${skipped.length ? `; skipped: ${skipped.map(([d, why]) => `${d} (${why})`).join('; ')}` : ''}.`);
  out.push('');
  const loads = ['throughput', 'idle', 'detection', 'capture', 'attach', 'compile', 'codemap']
    .filter((k) => res[k] && res[k].loadavg)
    .map((k) => `${k} ${fmt(res[k].loadavg.median, 1)} (${fmt(res[k].loadavg.min, 1)}–${fmt(res[k].loadavg.max, 1)})`);
  if (loads.length) {
    out.push(`Machine load while measuring (1-min load average, median (min–max), on ${m.cores} cores; the bench itself adds about 1–2): ${loads.join(', ')}.`);
    out.push('');
  }
  out.push('### Targets');
  out.push('');
  out.push(targets(res));
  out.push('');

  const d = res.detectors;
  const t = res.throughput;
  if (t && !t.error) {
    const dv = t.variants || d;
    const c = res.config.throughput;
    out.push('### 1. HTTP hello world under load');
    out.push('');
    out.push(
      `${c.rounds} interleaved rounds; each a fresh server (threshold ${c.thresholdMs} ms), ${c.warmup} warm-up then ${c.requests} requests over ${c.connections} keep-alive connections from a separate load-generator process. CPU is the server's, summed over its threads (schedstat). "none, again" is a second baseline run as its own variant (A/A control): its "overhead" shows how much two identical variants differ on this machine. Instructions: callgrind, ${c.callgrindRounds} rounds of ${c.callgrindRequests} requests after ${c.callgrindWarmup} warm-up, all threads, threshold ${c.callgrindThresholdMs} ms (valgrind runs ~50× slower, so time-driven work is scaled accordingly).`,
    );
    out.push('');
    out.push(comparison('Instructions per request', t, 'instrPerReq', dv, '', 0));
    if (t.callgrindBreakdown && t.callgrindBreakdown.stallwatch) {
      const b = t.callgrindBreakdown;
      const row = (k) => (b.none ? `${fmt(b.stallwatch[k], 0)} (none: ${fmt(b.none[k], 0)})` : fmt(b.stallwatch[k], 0));
      out.push(
        `Where stallwatch's instructions per request go (callgrind self cost, median): in stallwatch.node ${row('stallwatchNodePerReq')}, uv_metrics_idle_time ${row('uvMetricsIdleTimePerReq')}, V8 code-event/relocation logging ${row('listenerDrivenV8PerReq')}, TurboFan ${row('v8CompilerPerReq')}, JIT code ${row('jitPerReq')}.\n`,
      );
    }
    out.push(comparison('CPU time per request (all threads)', t, 'cpuNsPerReq', dv, ' ns', 0));
    out.push(comparison('Requests per second (context only; never a gate)', t, 'rps', dv, '', 0));
    out.push(comparison('p50 latency', t, 'p50us', dv, ' µs', 0));
    out.push(comparison('p99 latency', t, 'p99us', dv, ' µs', 0));
    if (t.watchdogCpuPct) {
      out.push(
        `stallwatch threads while busy: watchdog ${fmt(t.watchdogCpuPct.median, 3)}% of a core (max ${fmt(t.watchdogCpuPct.max, 3)}%), ${fmt(t.watchdogWakeupsPerSec.median, 1)} wake-ups/s; captures during load: ${JSON.stringify(t.capturesDuringLoad)}${t.callgrindCaptures ? `, under callgrind: ${JSON.stringify(t.callgrindCaptures)}` : ''}.`,
      );
      out.push('');
    }
    for (const n of t.notes || []) out.push(`- ${n}`);
    out.push('');
  }

  const idle = res.idle;
  if (idle && idle.summary) {
    const c = res.config.idle;
    out.push('### 2. Idle server (no traffic)');
    out.push('');
    out.push(
      `${c.rounds} rounds, the ${d.length} servers side by side (threshold ${c.thresholdMs} ms); each round measures a first window of ${c.durationMs / 1000} s starting ${c.settleMs / 1000} s after start-up and then the steady state over the next ${c.durationMs / 1000} s (the columns are the steady state unless marked). Wake-ups are voluntary context switches per thread (/proc/<pid>/task/<tid>/status); "other" is every thread except the event loop and stallwatch's (V8 platform, libuv, Sentry's worker thread...). Syscalls: one \`strace -f\` round of ${c.durationMs / 1000} s over the steady state, run alongside round 1.`,
    );
    out.push('');
    const rows = d
      .filter((x) => idle.summary[x])
      .map((x) => {
        const s = idle.summary[x];
        const st = idle.strace && idle.strace[x];
        const early = idle.earlySummary && idle.earlySummary[x];
        return [
          x,
          spread(s.loopWakeupsPerSec, 1),
          early ? fmt(early.loopWakeupsPerSec.median, 1) : 'n/a',
          x === 'stallwatch' ? spread(s.stallwatchThreadsWakeupsPerSec, 1) : '—',
          spread(s.otherWakeupsPerSec, 1),
          spread(s.cpuPctOfCore, 3),
          st ? `${fmt(st.loopSyscallsPerSec, 1)} (epoll ${fmt(st.loopEpollReturnsPerSec, 1)})` : 'n/a',
          st ? fmt(st.stallwatchThreadsSyscallsPerSec, 1) : 'n/a',
          st ? fmt(st.otherSyscallsPerSec, 1) : 'n/a',
        ];
      });
    out.push(
      table(
        ['detector', 'loop wake-ups/s', 'loop wake-ups/s, first window', 'stallwatch threads wake-ups/s', 'other threads wake-ups/s', 'CPU % of a core', 'loop syscalls/s (strace)', 'stallwatch threads syscalls/s', 'other threads syscalls/s'],
        rows,
      ),
    );
    out.push('');
    for (const n of idle.notes || []) out.push(`- ${n}`);
    out.push('');
  }

  const det = res.detection;
  if (det && det.summary) {
    const c = res.config.detection;
    out.push('### 3. Detection latency');
    out.push('');
    out.push(
      `Stall start (timestamp just before a ${c.stallMs} ms busy loop) to report available, threshold ${c.thresholdMs} ms, ${c.rounds} interleaved rounds × (${c.timerStalls} stalls in a timer + ${c.httpStalls} in an HTTP handler). stallwatch: report.capturedAt; "(log line)": the JSON line appearing in the log file (seen by another process via inotify); "(listener)": the 'blocked' event running (after the stall, by design). sentry: its event reaching a local ingest endpoint. blocked-at and eld can only report once the stall is over.`,
    );
    out.push('');
    const rows = Object.entries(det.summary).map(([name, s]) => [
      name,
      fmt(s.p50, 1),
      fmt(s.p99, 1),
      fmt(s.max, 1),
      fmt(s.min, 1),
      `+${fmt(s.overThreshold.p50, 1)} / +${fmt(s.overThreshold.p99, 1)}`,
      `${fmt(s.byKind.timer.p50, 1)} / ${fmt(s.byKind.http.p50, 1)}`,
      `${s.n}/${s.stalls}${s.unmatched ? `, ${s.unmatched} extra` : ''}`,
    ]);
    out.push(table(['detector', 'p50 ms', 'p99 ms', 'max ms', 'min ms', 'over threshold p50 / p99', 'p50 timer / http', 'detected'], rows));
    out.push('');
    const sw = det.summary.stallwatch;
    if (sw && sw.reports) {
      out.push(`stallwatch took ${sw.samples} samples for ${sw.reports} reports: ${sw.samples - sw.reports} stalls were sampled again (4 ms, then 20 ms later) because the first sample looked incomplete.`);
      if (sw.decomposition) {
        const w = sw.decomposition.watchdogLateMs;
        const a = sw.decomposition.afterDecisionMs;
        out.push(`Split of stallwatch's latency: the report's blockedMs minus the threshold (how late the watchdog acted: its wake-up, on a loaded machine) p50 ${fmt(w.p50, 2)} / p99 ${fmt(w.p99, 1)} / max ${fmt(w.max, 1)} ms; then capturedAt minus (start + blockedMs) (signal, handler, resamples) p50 ${fmt(a.p50, 2)} / p99 ${fmt(a.p99, 1)} / max ${fmt(a.max, 1)} ms. (blockedMs counts from the loop's last progress, which is slightly before the stall's timestamp.)`);
      }
      out.push('');
    }
  }

  const cap = res.capture;
  if (cap && cap.summary) {
    const c = res.config.capture;
    out.push('### 4. Capture pause (stallwatch)');
    out.push('');
    out.push(
      `maxFrames 128, threshold ${c.thresholdMs} ms, ${c.rounds} fresh processes per stack shape × ${c.stalls} stalls; "deep" recurses ${c.deepDepth} JS frames before spinning. Handler time = stats().handlerNs; signal-to-sample = stats().signalToSampleNs. The first capture of each process is shown apart.`,
    );
    out.push('');
    const rows = Object.entries(cap.summary).map(([v, s]) => [
      v,
      fmt(s.framesMedian, 0),
      `${fmt(s.steadyHandlerUs.p50, 1)} / ${fmt(s.steadyHandlerUs.p99, 1)} / ${fmt(s.steadyHandlerUs.max, 0)}`,
      `${fmt(s.firstCaptureUs.median, 0)} [${fmt(s.firstCaptureUs.min, 0)}–${fmt(s.firstCaptureUs.max, 0)}]`,
      `${fmt(s.steadySignalToSampleUs.p50, 1)} / ${fmt(s.steadySignalToSampleUs.p99, 1)}`,
      `${fmt(s.firstSignalToSampleUs.median, 0)}`,
      `${s.steadyHandlerUs.n + s.processes}`,
    ]);
    for (const [v, s] of Object.entries(cap.summary)) {
      const reasons = Object.entries(s.partialReasons || {}).map(([k, n]) => `${n}× "${k}"`);
      out.push(`- ${v}: ${s.samples} samples for ${s.reports} reports (a stall is sampled again when its first sample has no JS frames or is in GC); partial reports: ${reasons.length ? reasons.join(', ') : 'none'}.`);
    }
    out.push('');
    out.push(table(['stack', 'frames', 'handler µs p50 / p99 / max (steady)', 'handler µs, 1st capture: median [range]', 'signal→sample µs p50 / p99', 'signal→sample 1st µs', 'captures'], rows));
    out.push('');
  }

  const at = res.attach;
  if (at && at.fresh) {
    out.push('### 5. Attach cost and start-up');
    out.push('');
    out.push(`Fresh process, module already required (require time shown apart); ${res.config.attach.rounds} interleaved rounds.`);
    out.push('');
    const rows = d
      .filter((x) => at.fresh.attachMs[x])
      .map((x) => [
        x,
        spread(at.fresh.attachMs[x], 2),
        spread(at.fresh.requireMs[x], 1),
        at.largeHeap && at.largeHeap.attachMs[x] ? spread(at.largeHeap.attachMs[x], 1) : '—',
      ]);
    out.push(table(['detector', 'attach ms (fresh)', 'require ms', `attach ms (${res.config.attach.heapMB} MB heap)`], rows));
    out.push('');
  }
  const comp = res.compile;
  if (comp && comp.totalMs) {
    const dc = comp.variants || d;
    const c = res.config.compile;
    out.push(comparison(`Compile-heavy start-up: require('typescript'), parse its lib.*.d.ts files and transpile a generated module, detector attached first (threshold ${c.thresholdMs} ms, stallwatch's default), ${c.rounds} interleaved rounds; wall time from process start to done`, comp, 'totalMs', dc, ' ms', 0));
    out.push(comparison('Same, main-thread CPU time (the start-up\'s critical path; steadier than wall time on a shared machine)', comp, 'mainThreadCpuMs', dc, ' ms', 0));
    out.push(comparison('Same, CPU time of all threads', comp, 'processCpuMs', dc, ' ms', 0));
    out.push(comparison('… wall time of require(\'typescript\') alone', comp, 'requireMs', dc, ' ms', 0));
    const ci = comp.instructions;
    if (ci && ci.total) {
      out.push(comparison(`Same workload, short form (require('typescript') and transpile a ${ci.classes}-class module; no lib.d.ts parse), instructions retired by all threads under callgrind, ${ci.rounds} interleaved rounds, threshold ${ci.thresholdMs} ms (valgrind's slow-down scaled, so no capture runs), node ${(ci.nodeArgs || []).join(' ')} (V8 on one thread with fixed seeds, so that identical runs retire the same count)`, ci, 'total', ci.variants, '', 0));
      const parts = { lineEnds: 'V8: script line ends (Script::InitLineEnds)', handler: 'stallwatch: JIT code event handler (OnJitCodeEvent)', attach: 'stallwatch: supervise(), V8\'s replay of existing code included' };
      const rows = Object.entries(parts).map(([p, label]) => {
        const none = ci.parts[p].none;
        const sw = ci.parts[p].stallwatch;
        return [label, fmt(none && none.median, 0), fmt(sw && sw.median, 0), addedShare(ci, p)];
      });
      out.push('Where the added instructions go (inclusive counts: a part includes what it calls, so parts overlap; the replay at supervise() runs the handler and computes line ends too). V8 computes a line and column for every function it compiles once any code event listener is installed, and for that the line-end table of the function\'s script: without a listener most scripts never get one. This is V8\'s price for any listener (a CPU profiler, `--perf-basic-prof`, stallwatch), not something stallwatch can skip while it keeps a code map.');
      out.push('');
      out.push(table(['part', 'none (median)', 'stallwatch (median)', 'added, % of none\'s total'], rows));
      out.push('');
    }
    if (comp.captures && comp.captures.some((x) => x > 0)) out.push(`stallwatch captured stalls during start-up: ${JSON.stringify(comp.captures)}.\n`);
  }

  if (at && at.memory) {
    out.push('### 6. Memory');
    out.push('');
    const rows = d
      .filter((x) => at.memory.rssDelta[x])
      .map((x) => [
        x,
        `${fmt(at.memory.rssDelta[x].median / 1024, 0)} KiB`,
        at.memory.rssDelta[x].diff ? `${fmt(at.memory.rssDelta[x].diff.median / 1024, 0)} KiB` : '—',
        `${fmt(at.memory.brkHeapDelta[x].median / 1024, 0)} KiB`,
      ]);
    out.push('RSS added by attaching (after gc() and 300 ms settling, fresh process), and the part in the malloc heap:');
    out.push('');
    out.push(table(['detector', 'RSS delta', 'minus none (paired)', 'malloc [heap] delta'], rows));
    out.push('');
  }
  const cm = res.codemap;
  if (cm && cm.keep) {
    const c = res.config.codemap;
    out.push(
      `Code map: ${c.n} distinct named functions compiled (new Function) and called once, with vs without stallwatch, ${c.rounds} interleaved rounds. Bytes per function = (delta with − delta without) / n, paired by round. "malloc [heap]" is the Rss of the brk heap in /proc/self/smaps, where the code map's small allocations land (it excludes the V8 heap); RSS includes everything. "churn": the same functions compiled in 10 batches, each dropped and collected before the next: what stays is memory for code that no longer exists.`,
    );
    out.push('');
    const rows = ['keep', 'churn'].map((mode) => {
      const x = cm[mode];
      return [
        mode,
        `${fmt(x.brkHeapPerFn.perFunction.median, 0)} B (${fmt(x.brkHeapPerFn.perFunction.min, 0)} … ${fmt(x.brkHeapPerFn.perFunction.max, 0)})`,
        `${fmt(x.rssPerFn.perFunction.median, 0)} B`,
        `${fmt(x.heapUsedPerFn.perFunction.median, 0)} B`,
        `${fmt(x.compileMs.none.median, 0)} → ${fmt(x.compileMs.stallwatch.median, 0)} ms (${pct(x.compileMs.stallwatch.ratio.median)})`,
      ];
    });
    out.push(table(['mode', 'malloc [heap] per function', 'RSS per function', 'V8 heapUsed per function', `compile time of ${c.n} functions`], rows));
    out.push('');
  }
  return out.join('\n');
}

module.exports = { render, targets, fmt, pct };
