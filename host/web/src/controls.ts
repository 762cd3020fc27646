/**
 * The control panel: run, step, pause, to the end, go to a virtual time, speed, variant, flavor,
 * seed, the replay's own knobs, a new world, and a deliberate crash of one of the world's machines. Knob edits are checked with the scenario's own rules (resolveParams);
 * a bad value is reported beside the panel and nothing restarts.
 */
import type { ParamSpec, ParamValue } from '../../scenarios/contract.js';
import { parseSeed, resolveParams } from '../../scenarios/params.js';
import { FLAVORS, VARIANTS, type Flavor, type Variant } from '../../spdk/variant.js';
import { h } from './dom.js';
import { explained, GLOSSARY, term, termKey } from './glossary.js';
import { icon } from './icons.js';
import { CRASH_KINDS, SPEEDS, type CrashKind, type PageState, type Speed } from './url-state.js';

export interface ControlActions {
  newWorld(state: PageState): void;
  run(): void;
  pause(): void;
  step(): void;
  end(): void;
  /** Go to a virtual time (µs): forward by stepping, backward by replaying from 0. */
  seek(us: number): void;
  speed(s: Speed): void;
  crash(machine: string, kind: CrashKind): void;
}

/** What the crash control offers, as the cause a verdict names. */
const CRASH_LABELS: Record<CrashKind, string> = { trap: 'trap (WebAssembly unreachable)', abort: 'abort() (a failed invariant)', uaf: 'use after free (caught by asan)' };

export class Controls {
  readonly el: HTMLElement;
  private readonly problem = h('p', { class: 'problem', id: 'knob-problem', role: 'alert', hidden: true });
  private readonly buttons: Record<'run' | 'pause' | 'step' | 'end' | 'seek' | 'crash', HTMLButtonElement>;
  private readonly crashMachine = h('select', { id: 'crash-machine', 'aria-label': 'machine to crash' }, h('option', { value: '' }, '(loading)'));
  private readonly seekTo = h('input', { id: 'ctl-seek', type: 'number', min: 0, step: 1, value: 0, class: 'num' });
  private readonly fields = new Map<string, HTMLInputElement | HTMLSelectElement>();

  constructor(private state: PageState, private readonly act: ControlActions) {
    const select = (name: string, values: readonly string[], value: string, label: (v: string) => string = (v) => v): HTMLSelectElement => {
      const s = h('select', { name, id: `ctl-${name}` }, ...values.map((v) => h('option', { value: v, selected: v === value }, label(v))));
      this.fields.set(name, s);
      return s;
    };
    this.buttons = {
      run: h('button', { type: 'button', id: 'btn-run', onclick: () => act.run(), 'aria-keyshortcuts': 'Space' }, icon('play'), ' Run'),
      pause: h('button', { type: 'button', id: 'btn-pause', onclick: () => act.pause(), 'aria-keyshortcuts': 'Space' }, icon('pause'), ' Pause'),
      step: h('button', { type: 'button', id: 'btn-step', onclick: () => act.step(), 'aria-keyshortcuts': 'ArrowRight' }, icon('step'), ' Step'),
      end: h('button', { type: 'button', id: 'btn-end', onclick: () => act.end(), 'aria-keyshortcuts': 'End' }, icon('end'), ' To the end'),
      seek: h('button', { type: 'button', id: 'btn-seek', onclick: () => this.seek() }, 'Go'),
      crash: h('button', { type: 'button', id: 'btn-crash', onclick: () => act.crash(this.crashMachine.value, crashKind.value as CrashKind) }, 'crash now'),
    };
    this.seekTo.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') {
        ev.preventDefault();
        this.seek();
      }
    });
    const speed = select('speed', SPEEDS, state.speed, speedLabel);
    speed.addEventListener('change', () => act.speed(speed.value as Speed));
    const seed = h('input', { name: 'seed', id: 'ctl-seed', type: 'number', min: 0, max: 4294967295, value: state.seed });
    this.fields.set('seed', seed);
    const knobs = state.scenario.params.map((p) => this.knob(p, state.params[p.name]!));
    const crashKind = h('select', { id: 'crash-kind', 'aria-label': 'kind of crash' },
      ...(Object.keys(CRASH_KINDS) as CrashKind[]).sort((a, b) => CRASH_KINDS[b] - CRASH_KINDS[a]).map((k) => h('option', { value: k }, CRASH_LABELS[k])));
    const form = h('form', { class: 'controls', id: 'controls', 'aria-label': 'controls of the run' },
      h('div', { class: 'buttons' }, this.buttons.run, this.buttons.pause, this.buttons.step, this.buttons.end,
        h('label', {}, 'speed ', speed),
        h('span', { class: 'seek' }, h('label', { for: 'ctl-seek' }, 'go to ', term('virtual time'), ' (µs) '), this.seekTo, ' ', this.buttons.seek),
        h('button', { type: 'submit', id: 'btn-new' }, icon('restart'), ' New world')),
      h('p', { class: 'keys meta', id: 'keys' }, 'Keys: Space run / pause · → step · End to the end · Home back to 0'),
      h('div', { class: 'knobs' },
        h('label', {}, term('variant'), ' ', select('variant', VARIANTS, state.variant)),
        h('label', {}, term('flavor'), ' ', select('flavor', FLAVORS, state.flavor)),
        h('label', {}, term('seed'), ' ', seed),
        ...knobs),
      h('details', { class: 'crash' }, h('summary', {}, 'crash a machine (see the crash verdict)'),
        h('p', {}, this.crashMachine, ' ', crashKind, ' ', this.buttons.crash),
        h('p', { class: 'meta', id: 'crash-note', role: 'status' })),
      this.problem);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.apply();
    });
    // A knob change is a different world: start it at once.
    form.addEventListener('change', (ev) => {
      const t = ev.target as HTMLElement;
      if (t.closest('.knobs') !== null) this.apply();
    });
    this.el = form;
  }

  private knob(p: ParamSpec, value: ParamValue): HTMLElement {
    let input: HTMLInputElement | HTMLSelectElement;
    if (p.kind === 'bool') input = h('input', { type: 'checkbox', name: p.name, checked: value === true });
    else if (p.kind === 'enum') input = h('select', { name: p.name }, ...p.choices!.map((c) => h('option', { value: c, selected: c === value }, c)));
    else input = h('input', { type: 'number', name: p.name, value: String(value), min: p.min, max: p.max, class: 'num' });
    input.id = `knob-${p.name}`;
    this.fields.set(p.name, input);
    const range = p.kind === 'int' ? ` (${p.min ?? ''}..${p.max ?? ''})` : '';
    // The knob's own help, and the glossary's word for it when the name is jargon (mss, tso, ...).
    const key = termKey(p.name);
    const help = `${p.help}${range}${key !== undefined ? `. ${GLOSSARY[key]!}` : ''}`;
    return h('label', {}, explained(p.name, help, key ?? p.name), ' ', input);
  }

  /** The world's machines, once it exists: the crash control offers exactly these. */
  machines(names: readonly string[]): void {
    const keep = this.crashMachine.value;
    this.crashMachine.replaceChildren(...names.map((n) => h('option', { value: n, selected: n === keep }, n)));
    this.buttons.crash.disabled = names.length === 0;
  }

  /** Says what a deliberate crash did, beside the control. */
  crashNote(...content: (Node | string)[]): void {
    const note = this.el.querySelector('#crash-note')!;
    note.replaceChildren(...content);
    (this.el.querySelector('details.crash') as HTMLDetailsElement).open = true;
  }

  /** Shows the current virtual time in the "go to" field (unless someone is typing in it). */
  now(us: number): void {
    if (document.activeElement !== this.seekTo) this.seekTo.value = String(us);
  }

  private seek(): void {
    const v = Number(this.seekTo.value);
    if (!(Number.isSafeInteger(v) && v >= 0)) {
      this.problem.textContent = `go to: a virtual time in whole µs (>= 0), got "${this.seekTo.value}"`;
      this.problem.hidden = false;
      return;
    }
    this.problem.hidden = true;
    this.act.seek(v);
  }

  /** Reads the panel; on success starts a new world with it. */
  apply(): void {
    const get = (name: string): HTMLInputElement | HTMLSelectElement => this.fields.get(name)!;
    try {
      const raw: Record<string, string | boolean> = {};
      for (const p of this.state.scenario.params) {
        const f = get(p.name);
        raw[p.name] = p.kind === 'bool' ? (f as HTMLInputElement).checked : f.value;
      }
      const next: PageState = {
        ...this.state,
        variant: get('variant').value as Variant,
        flavor: get('flavor').value as Flavor,
        seed: parseSeed(get('seed').value),
        params: resolveParams(this.state.scenario, raw),
        speed: get('speed').value as Speed,
        at: 0,
        crash: undefined,
      };
      this.problem.hidden = true;
      this.state = next;
      this.act.newWorld(next);
    } catch (err) {
      this.problem.textContent = (err instanceof Error ? err.message : String(err)).replace(/--/g, '');
      this.problem.hidden = false;
    }
  }

  /** Which buttons make sense in the runner's status. */
  status(s: 'loading' | 'ready' | 'running' | 'paused' | 'finished' | 'error'): void {
    this.buttons.run.disabled = !(s === 'ready' || s === 'paused');
    this.buttons.pause.disabled = s !== 'running';
    this.buttons.step.disabled = !(s === 'ready' || s === 'paused' || s === 'running');
    this.buttons.end.disabled = !(s === 'ready' || s === 'paused' || s === 'running');
    this.buttons.seek.disabled = s === 'loading';
  }
}

function speedLabel(v: string): string {
  if (v === 'max') return 'max';
  const us = Number(v);
  return us >= 1000 ? `${us / 1000} ms/frame` : `${us} µs/frame`;
}
