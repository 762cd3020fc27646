/**
 * The control panel: run, step, pause, speed, variant, flavor, seed, the replay's own knobs, a new
 * world, and a deliberate crash. Knob edits are checked with the scenario's own rules (resolveParams);
 * a bad value is reported beside the panel and nothing restarts.
 */
import type { ParamSpec, ParamValue } from '../../scenarios/contract.js';
import { parseSeed, resolveParams } from '../../scenarios/params.js';
import { FLAVORS, VARIANTS, type Flavor, type Variant } from '../../spdk/variant.js';
import { h } from './dom.js';
import { SPEEDS, type PageState, type Speed } from './url-state.js';

export interface ControlActions {
  newWorld(state: PageState): void;
  run(): void;
  pause(): void;
  step(): void;
  speed(s: Speed): void;
  crash(machine: string, kind: number): void;
}

export class Controls {
  readonly el: HTMLElement;
  private readonly problem = h('p', { class: 'problem', id: 'knob-problem', role: 'alert', hidden: true });
  private readonly buttons: Record<'run' | 'pause' | 'step', HTMLButtonElement>;
  private readonly fields = new Map<string, HTMLInputElement | HTMLSelectElement>();

  constructor(private state: PageState, private readonly act: ControlActions) {
    const select = (name: string, values: readonly string[], value: string, label: (v: string) => string = (v) => v): HTMLSelectElement => {
      const s = h('select', { name, id: `ctl-${name}` }, ...values.map((v) => h('option', { value: v, selected: v === value }, label(v))));
      this.fields.set(name, s);
      return s;
    };
    this.buttons = {
      run: h('button', { type: 'button', id: 'btn-run', onclick: () => act.run() }, '▶ Run'),
      pause: h('button', { type: 'button', id: 'btn-pause', onclick: () => act.pause() }, '⏸ Pause'),
      step: h('button', { type: 'button', id: 'btn-step', onclick: () => act.step() }, '⏭ Step'),
    };
    const speed = select('speed', SPEEDS, state.speed, speedLabel);
    speed.addEventListener('change', () => act.speed(speed.value as Speed));
    const seed = h('input', { name: 'seed', id: 'ctl-seed', type: 'number', min: 0, max: 4294967295, value: state.seed });
    this.fields.set('seed', seed);
    const knobs = state.scenario.params.map((p) => this.knob(p, state.params[p.name]!));
    const crashMachine = h('select', { id: 'crash-machine' }, h('option', { value: 'host' }, 'host'), h('option', { value: 'target' }, 'target'));
    const crashKind = h('select', { id: 'crash-kind' }, h('option', { value: '2' }, 'trap'), h('option', { value: '0' }, 'abort()'), h('option', { value: '1' }, 'use after free (asan)'));
    const form = h('form', { class: 'controls', id: 'controls' },
      h('div', { class: 'buttons' }, this.buttons.run, this.buttons.pause, this.buttons.step,
        h('label', {}, 'speed ', speed),
        h('button', { type: 'submit', id: 'btn-new' }, '↻ New world')),
      h('div', { class: 'knobs' },
        h('label', { title: 'unpatched = wasm/ as upstream before the fix; patched = with spdk-patches/series' }, 'variant ', select('variant', VARIANTS, state.variant)),
        h('label', { title: 'asan = built with -fsanitize=address' }, 'flavor ', select('flavor', FLAVORS, state.flavor)),
        h('label', { title: 'the world PRNG seed' }, 'seed ', seed),
        ...knobs),
      h('details', { class: 'crash' }, h('summary', {}, 'crash a machine (see the crash verdict)'),
        h('p', {}, crashMachine, ' ', crashKind, ' ',
          h('button', { type: 'button', id: 'btn-crash', onclick: () => act.crash(crashMachine.value, Number(crashKind.value)) }, 'crash now'))),
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
    return h('label', { title: `${p.help}${range}` }, `${p.name} `, input);
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
  }
}

function speedLabel(v: string): string {
  if (v === 'max') return 'max';
  const us = Number(v);
  return us >= 1000 ? `${us / 1000} ms/frame` : `${us} µs/frame`;
}
