/**
 * The page of one replay (replay.html?replay=<id>&variant=...&seed=...&<knob>=...): given the link
 * boot-replay.ts read, builds the controls and the replay's views, and drives the world in the
 * worker — one batch per animation frame while running, one drawn event per Step.
 */
import { formatUs } from '../../report.js';
import type { WorldClient } from './client.js';
import { Controls } from './controls.js';
import { fill, h } from './dom.js';
import type { StepBatch, StepRequest, WorldInfo } from './protocol.js';
import { viewFor } from './replays/views.js';
import type { ReplayView } from './replays/view.js';
import { cliCommand, toSearch, worldConfig, type PageState, type ParsedUrl, type Speed } from './url-state.js';
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
    speed: (s: Speed) => {
      state = { ...state, speed: s };
      history.replaceState(null, '', toSearch(state));
    },
    crash: (machine, kind) => void crash(machine, kind),
  });
}

function setStatus(s: Status): void {
  probe.status = s;
  document.body.dataset['status'] = s;
  controls.status(s);
}

function layout(): void {
  const s = state.scenario;
  const share = h('a', { id: 'share', href: toSearch(state) }, 'link to this run');
  document.title = `${s.id} — spdk-wasm`;
  fill(document.body,
    h('header', {},
      h('p', { class: 'crumbs' }, h('a', { href: './' }, 'spdk-wasm replays'), ' / ', s.id),
      h('h1', {}, s.id),
      h('p', { class: 'title' }, s.title),
      h('p', { class: 'meta' }, 'the bug: ', h('code', {}, s.bugDoc), ` · fix ${s.fix} · oracle ${s.oracle}`)),
    problems.length > 0
      ? h('div', { class: 'problem', id: 'url-problems', role: 'alert' }, h('strong', {}, 'This link had problems; defaults were used instead:'),
        h('ul', {}, ...problems.map((p) => h('li', {}, p))))
      : null,
    controls.el,
    statusLine,
    verdict.el,
    viewsRoot,
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
    const batch = show(await (first?.firstStep ?? client.api.step({ kind: 'time', sliceUs: 0 })), gen);
    if (batch === undefined) return;
    if (!batch.finished) setStatus('ready');
    if (measured) {
      const at = info.at;
      Object.assign(probe.marks, { workerLoaded: pageTime(at.workerLoaded), startBegan: pageTime(at.startBegan), startEnded: pageTime(at.startEnded), firstStep: performance.now() });
    }
    probe.firstStepMs ??= performance.now();
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
  statusLine.textContent = `virtual time ${formatUs(batch.now)} · ${batch.totalEvents.toLocaleString('en-US')} trace events (${totalSkipped.toLocaleString('en-US')} poll-loop events not drawn) · build ${probe.info?.build ?? '?'} · last step ${batch.wallMs.toFixed(1)} ms`;
  if (batch.finished) {
    setStatus('finished');
    if (batch.result !== undefined) verdict.show(batch.result);
  }
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
    if (gen === generation && probe.status !== 'finished') setStatus('paused');
  } catch (err) {
    if (gen === generation) fail(err);
  }
}

async function crash(machine: string, kind: number): Promise<void> {
  const gen = generation;
  if (probe.status !== 'ready' && probe.status !== 'paused' && probe.status !== 'running') return;
  setStatus('paused');
  try {
    await client.api.injectCrash(machine, kind);
    await step({ kind: 'event' }, gen);
  } catch (err) {
    if (gen === generation) fail(err);
  }
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
  void newWorld(state, first);
}
