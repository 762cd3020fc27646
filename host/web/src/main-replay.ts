/**
 * The page of one replay (replay.html?replay=<id>&variant=...&seed=...&<knob>=...): reads the URL,
 * builds the controls and the replay's views, and drives the world in the worker — one batch per
 * animation frame while running, one drawn event per Step.
 */
import { formatUs } from '../../report.js';
import type { WorldClient } from './client.js';
import { Controls } from './controls.js';
import { fill, h } from './dom.js';
import type { StepBatch, StepRequest, WorldConfig, WorldInfo } from './protocol.js';
import { viewFor } from './replays/views.js';
import type { ReplayView } from './replays/view.js';
import { cliCommand, parseUrl, toSearch, type PageState, type Speed } from './url-state.js';
import { VerdictView } from './views/verdict.js';

type Status = 'loading' | 'ready' | 'running' | 'paused' | 'finished' | 'error';

/** What tests and the bench read from the page. */
export interface DemoProbe {
  status: Status;
  /** ms from navigation start to the first step's batch drawn (first world only). */
  firstStepMs?: number;
  info?: WorldInfo;
  now: number;
  measure(sliceUs: number): Promise<unknown>;
}

const { state: initial, problems } = parseUrl(location.search);
let state: PageState = initial;
let client!: WorldClient;
const verdict = new VerdictView();
const statusLine = h('p', { class: 'status', id: 'status' });
const viewsRoot = h('div', { id: 'views' });
const probe: DemoProbe = { status: 'loading', now: 0, measure: (slice) => client.api.measure(config(state), slice) };
(window as unknown as { spdkDemo: DemoProbe }).spdkDemo = probe;

let view: ReplayView | undefined;
let generation = 0;
let totalSkipped = 0;

const controls = new Controls(state, {
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


function config(s: PageState): WorldConfig {
  return { scenario: s.scenario.id, variant: s.variant, flavor: s.flavor, seed: s.seed, params: s.params, wasmBase: new URL('wasm/', location.href).href };
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
      h('p', { class: 'meta' }, `seed write-up ${s.seedDoc} · fix ${s.fix} · oracle ${s.oracle}`)),
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

async function newWorld(s: PageState): Promise<void> {
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
  view = viewFor(state.scenario.id)(viewsRoot, { params: state.params, inspect: (q) => client.api.inspect(q) });
  try {
    probe.info = await client.api.start(config(state));
    if (gen !== generation) return;
    setStatus('ready');
    await step({ kind: 'time', sliceUs: 0 }, gen);
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
  const batch: StepBatch = await client.api.step(req);
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

/** Takes over the page with the worker boot-replay.ts already started (so it loads meanwhile). */
export function mount(c: WorldClient): void {
  client = c;
  client.onFatal = (msg) => {
    setStatus('error');
    verdict.error(msg);
  };
  layout();
  void newWorld(state);
}
