/**
 * The page of one replay (replay.html?replay=<id>&variant=...&seed=...&<knob>=...&t=...): given the
 * link boot-replay.ts read, builds the controls and the replay's views, and drives the world in the
 * worker — one batch per animation frame while running, one drawn event per Step, straight to a
 * virtual time for the link's `t` or a seek. The link follows the frame shown whenever the world
 * stops moving, so copying it lands on the same frame.
 */
import { formatUs } from '../../report.js';
import type { WorldClient } from './client.js';
import { Controls } from './controls.js';
import { fill, focusableScrollers, h } from './dom.js';
import { glossaryList, term } from './glossary.js';
import type { StepBatch, StepRequest, WorldInfo } from './protocol.js';
import { viewFor } from './replays/views.js';
import type { ReplayView } from './replays/view.js';
import { CRASH_KINDS, cliCommand, toSearch, worldConfig, type CrashKind, type PageState, type ParsedUrl, type Speed } from './url-state.js';
import { VerdictView } from './views/verdict.js';

type Status = 'loading' | 'ready' | 'running' | 'paused' | 'finished' | 'error';

/** What tests and the bench read from the page. */
export interface DemoProbe {
  status: Status;
  /** ms from navigation start to the first step's batch drawn (first world only). */
  firstStepMs?: number;
  /** ms from navigation start to the steps on the way there (first world only). */
  marks: Record<string, number>;
  info?: WorldInfo;
  now: number;
  measure(sliceUs: number): Promise<unknown>;
}

let state!: PageState;
let problems: string[] = [];
let client!: WorldClient;
let controls!: Controls;
const verdict = new VerdictView();
const statusLine = h('p', { class: 'status', id: 'status' });
const viewsRoot = h('div', { id: 'views' });
const probe: DemoProbe = { status: 'loading', now: 0, marks: {}, measure: (slice) => client.api.measure(worldConfig(state), slice) };
/** Page time (ms since navigation start) of a wall-clock instant from the worker. */
const pageTime = (epochMs: number): number => epochMs - performance.timeOrigin;
(window as unknown as { spdkDemo: DemoProbe }).spdkDemo = probe;

let view: ReplayView | undefined;
let generation = 0;
let totalSkipped = 0;

function makeControls(): Controls {
  return new Controls(state, {
    newWorld: (s) => void newWorld(s),
    run: () => void run(),
    pause: () => setStatus('paused'),
    step: () => void stepOnce(),
    end: () => void toEnd(),
    seek: (us) => void seek(us),
    speed: (s: Speed) => {
      state = { ...state, speed: s };
      syncUrl();
    },
    crash: (machine, kind) => void crash(machine, kind),
  });
}

/** The link of the frame shown: its virtual time, unless a crash fixed it to the crash's moment. */
function syncUrl(): void {
  // A world not yet stepped is the run's start, whatever its first instant.
  const fresh = probe.status === 'ready' || probe.status === 'loading';
  if (state.crash === undefined) state = { ...state, at: fresh ? 0 : probe.now };
  const search = toSearch(state);
  history.replaceState(null, '', search);
  document.getElementById('share')?.setAttribute('href', search);
}

/** Space run/pause, → step, End to the end, Home back to 0; not while typing in a field, and Space
 *  still presses the focused button or link. */
function onKey(ev: KeyboardEvent): void {
  const t = ev.target as HTMLElement | null;
  if (ev.altKey || ev.ctrlKey || ev.metaKey || t?.closest('input, select, textarea') != null) return;
  if (ev.key === ' ' && t?.closest('button, a, summary, [tabindex]') != null) return;
  const st = probe.status;
  if (ev.key === ' ') {
    if (st === 'running') setStatus('paused');
    else if (st === 'ready' || st === 'paused') void run();
    else return;
  } else if (ev.key === 'ArrowRight') void stepOnce();
  else if (ev.key === 'End') void toEnd();
  else if (ev.key === 'Home') void seek(0);
  else return;
  ev.preventDefault();
}

function setStatus(s: Status): void {
  probe.status = s;
  document.body.dataset['status'] = s;
  controls.status(s);
}

function layout(): void {
  const s = state.scenario;
  const share = h('a', { id: 'share', href: toSearch(state) }, 'link to this frame of this run');
  document.title = `${s.id} — spdk-wasm`;
  verdict.pending(s.bugDoc, 'Press Run (or Space) to replay the bug; the verdict appears here.');
  fill(document.body,
    h('header', {},
      h('nav', { class: 'crumbs', 'aria-label': 'breadcrumbs' }, h('a', { href: './' }, 'spdk-wasm replays'), ' / ', s.id),
      h('h1', {}, s.id),
      h('p', { class: 'title' }, s.title),
      verdict.headline,
      h('p', { class: 'meta' }, 'the bug: ', h('a', { href: s.bugDoc }, s.bugDoc), ` · fix ${s.fix} · `, term('oracle'), ` ${s.oracle}`)),
    problems.length > 0
      ? h('div', { class: 'problem', id: 'url-problems', role: 'alert' }, h('strong', {}, 'This link had problems; defaults were used instead:'),
        h('ul', {}, ...problems.map((p) => h('li', {}, p))))
      : null,
    controls.el,
    statusLine,
    verdict.el,
    viewsRoot,
    glossaryList(),
    h('footer', {}, share, ' · same run on the command line: ', h('code', { id: 'cli' }, cliCommand(state))));
}

/** What boot-replay.ts already asked the worker for: the link's world and its first step. */
export interface FirstWorld {
  started: Promise<WorldInfo>;
  firstStep: Promise<StepBatch>;
}

/** Starts a world for `s`, or takes over the one boot-replay.ts asked for. */
async function newWorld(s: PageState, first?: FirstWorld): Promise<void> {
  const gen = ++generation;
  state = s;
  history.replaceState(null, '', toSearch(state));
  document.getElementById('share')?.setAttribute('href', toSearch(state));
  const cli = document.getElementById('cli');
  if (cli !== null) cli.textContent = cliCommand(state);
  setStatus('loading');
  verdict.reset();
  verdict.pending(s.scenario.bugDoc, 'Press Run (or Space) to replay the bug; the verdict appears here.');
  totalSkipped = 0;
  statusLine.textContent = `loading ${state.variant}-${state.flavor} …`;
  viewsRoot.replaceChildren();
  view = undefined;
  const measured = probe.firstStepMs === undefined;
  const started = first?.started ?? client.api.start(worldConfig(state));
  started.catch(() => {}); // awaited below, once the view is there
  try {
    const makeView = await viewFor(state.scenario.id);
    if (gen !== generation) return;
    view = makeView(viewsRoot, { params: state.params, inspect: (q) => client.api.inspect(q) });
    const info = await started;
    if (gen !== generation) return;
    probe.info = info;
    controls.machines(info.machines);
    let batch = show(await (first?.firstStep ?? client.api.step({ kind: 'time', sliceUs: 0 })), gen);
    if (batch === undefined) return;
    if (!batch.finished) setStatus('ready');
    const firstAt = performance.now();
    // The link's frame: straight to its virtual time, then its crash if it names one.
    if (!batch.finished && s.at > batch.now) batch = await step({ kind: 'time', sliceUs: s.at - batch.now }, gen);
    if (batch !== undefined && !batch.finished && s.crash !== undefined) await injectAndShow(s.crash.machine, s.crash.kind, gen);
    if (gen !== generation) return;
    if (probe.status === 'ready' && s.at > 0) {
      setStatus('paused');
      syncUrl();
    }
    if (measured) {
      const at = info.at;
      Object.assign(probe.marks, { workerLoaded: pageTime(at.workerLoaded), startBegan: pageTime(at.startBegan), startEnded: pageTime(at.startEnded), firstStep: firstAt });
    }
    probe.firstStepMs ??= firstAt;
  } catch (err) {
    if (gen === generation) fail(err);
  }
}

function fail(err: unknown): void {
  setStatus('error');
  verdict.error(err instanceof Error ? err.message : String(err));
  // The worker may be wedged; a fresh one is ready for the next world.
  client.restart();
}

/** One step; undefined when another world replaced this one. */
async function step(req: StepRequest, gen: number): Promise<StepBatch | undefined> {
  return show(await client.api.step(req), gen);
}

/** Draws a step's batch; undefined when another world replaced this one. */
function show(batch: StepBatch, gen: number): StepBatch | undefined {
  if (gen !== generation) return undefined;
  totalSkipped += batch.skipped;
  probe.now = batch.now;
  view?.update(batch);
  focusableScrollers(viewsRoot);
  controls.now(batch.now);
  statusLine.textContent = `virtual time ${formatUs(batch.now)} · ${batch.totalEvents.toLocaleString('en-US')} trace events (${totalSkipped.toLocaleString('en-US')} poll-loop events not drawn) · build ${probe.info?.build ?? '?'} · last step ${batch.wallMs.toFixed(1)} ms`;
  if (batch.finished) {
    setStatus('finished');
    syncUrl();
    if (batch.result !== undefined) {
      verdict.show(batch.result, { bugHref: state.scenario.bugDoc, replayHref: toSearch(state), evidence: view?.evidence?.(batch.result) });
    }
  } else if (probe.status !== 'running') syncUrl();
  return batch;
}

const nextFrame = (): Promise<void> => new Promise((r) => requestAnimationFrame(() => r()));

async function run(): Promise<void> {
  const gen = generation;
  setStatus('running');
  try {
    // A slice in which nothing drawable happened is followed by a step to the next drawn event,
    // so idle stretches (a retransmission backoff, a keep-alive timeout) pass at once.
    let idle = false;
    while (probe.status === 'running' && gen === generation) {
      const max = state.speed === 'max';
      const batch = await step(idle ? { kind: 'event' } : { kind: 'time', sliceUs: max ? 2000 : Number(state.speed) }, gen);
      if (batch === undefined || batch.finished) return;
      idle = batch.events.length === 0;
      if (!max) await nextFrame();
      else await new Promise((r) => setTimeout(r, 0));
    }
  } catch (err) {
    if (gen === generation) fail(err);
  }
}

async function stepOnce(): Promise<void> {
  const gen = generation;
  if (probe.status === 'running') setStatus('paused');
  try {
    await step({ kind: 'event' }, gen);
    if (gen === generation && probe.status !== 'finished') {
      setStatus('paused');
      syncUrl();
    }
  } catch (err) {
    if (gen === generation) fail(err);
  }
}

async function toEnd(): Promise<void> {
  const gen = generation;
  if (probe.status !== 'ready' && probe.status !== 'paused' && probe.status !== 'running') return;
  setStatus('paused');
  try {
    await step({ kind: 'end' }, gen);
  } catch (err) {
    if (gen === generation) fail(err);
  }
}

/** Forward by stepping to the time; backward by a fresh world of the same run that steps there. */
async function seek(us: number): Promise<void> {
  const gen = generation;
  if (us < probe.now || probe.status === 'finished' || probe.status === 'error') {
    if (us >= probe.now && probe.status === 'finished') return;
    await newWorld({ ...state, at: us, crash: undefined });
    return;
  }
  if (probe.status === 'loading') return;
  setStatus('paused');
  try {
    const b = await step({ kind: 'time', sliceUs: us - probe.now }, gen);
    if (b !== undefined && !b.finished) setStatus('paused');
  } catch (err) {
    if (gen === generation) fail(err);
  }
}

async function crash(machine: string, kind: CrashKind): Promise<void> {
  const gen = generation;
  if (probe.status !== 'ready' && probe.status !== 'paused' && probe.status !== 'running') return;
  setStatus('paused');
  try {
    await injectAndShow(machine, kind, gen);
  } catch (err) {
    if (gen === generation) fail(err);
  }
}

/** Crashes a machine and draws what followed; a crash nothing detected is explained beside the control. */
async function injectAndShow(machine: string, kind: CrashKind, gen: number): Promise<void> {
  const out = await client.api.injectCrash(machine, CRASH_KINDS[kind]);
  if (gen !== generation) return;
  if (out.crashed) {
    state = { ...state, at: out.at, crash: { machine, kind } };
    await step({ kind: 'event' }, gen);
    return;
  }
  const onAsan = toSearch({ ...state, flavor: 'asan', at: out.at, crash: { machine, kind } });
  controls.crashNote(h('strong', {}, `use after free on ${machine}: not detected on release`),
    ' — the release build has no AddressSanitizer, so the C code read freed memory and went on. ',
    h('a', { href: onAsan, id: 'crash-on-asan' }, 'See it caught on asan'), '.');
  await step({ kind: 'event' }, gen);
  if (gen === generation && probe.status !== 'finished') setStatus('paused');
}

/** Takes over the page: boot-replay.ts already read the link and asked the worker for its world. */
export function mount(c: WorldClient, link: ParsedUrl, first: FirstWorld): void {
  probe.marks['mount'] = performance.now();
  client = c;
  state = link.state;
  problems = link.problems;
  controls = makeControls();
  client.onFatal = (msg) => {
    setStatus('error');
    verdict.error(msg);
  };
  layout();
  document.addEventListener('keydown', onKey);
  void newWorld(state, first);
}
