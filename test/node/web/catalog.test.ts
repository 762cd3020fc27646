/**
 * The scenario catalog (metadata without run code, what a page's main thread loads) is the same
 * list as SCENARIOS, and each scenario's knobs are its catalog entry's, not a copy.
 */
import { describe, expect, it } from 'vitest';
import { CATALOG, findInfo } from '../../../host/scenarios/catalog.js';
import { findScenario, SCENARIOS } from '../../../host/scenarios/index.js';

describe('scenario catalog', () => {
  it('lists every scenario in order with the very same params and checks', () => {
    expect(CATALOG.map((s) => s.id)).toEqual(SCENARIOS.map((s) => s.id));
    CATALOG.forEach((info, i) => {
      const s = SCENARIOS[i]!;
      expect(s.params).toBe(info.params);
      expect(s.validate).toBe(info.validate);
      expect({ title: s.title, bugDoc: s.bugDoc, fix: s.fix, oracle: s.oracle }).toEqual({ title: info.title, bugDoc: info.bugDoc, fix: info.fix, oracle: info.oracle });
    });
  });

  it('an unknown id names the known ones, from the catalog and from SCENARIOS alike', () => {
    expect(() => findInfo('nope')).toThrow(/unknown scenario "nope" \(known: zcopy-threshold, /);
    expect(() => findScenario('nope')).toThrow(/unknown scenario "nope" \(known: zcopy-threshold, /);
  });
});
