/**
 * The function-offset table emscripten's ASan symbolizer needs (`Module.wasmOffsetData`). Emscripten
 * builds it from the wasm bytes when it loads the binary itself; we instantiate a precompiled module
 * per machine (instantiateWasm), so we build the same table once per variant: the number of imported
 * functions, where each function body starts in the binary, and the names from the "name" section.
 * Without it, an ASan report dies while printing its stack.
 */
export interface WasmOffsetData {
  import_functions: number;
  offset_map: Record<number, number>;
  func_starts: number[];
  name_map: Record<number, string>;
}

/** Reads bytes and unsigned LEB128 numbers from a position that moves forward. */
class Reader {
  constructor(readonly b: Uint8Array, public pos = 0) {}

  u8(): number {
    return this.b[this.pos++]!;
  }

  leb(): number {
    let result = 0;
    for (let shift = 0; ; shift += 7) {
      const x = this.u8();
      result += (x & 0x7f) * 2 ** shift;
      if ((x & 0x80) === 0) return result;
    }
  }

  /** Skips a length-prefixed name. (Not `pos += leb()`: that reads `pos` before leb() moves it.) */
  skipName(): void {
    const len = this.leb();
    this.pos += len;
  }

  /** Skips a `limits` (flags, min, optional max). */
  limits(): void {
    const flags = this.leb();
    this.leb();
    if (flags & 1) this.leb();
  }
}

export function wasmOffsetData(bytes: Uint8Array, module: WebAssembly.Module): WasmOffsetData {
  const out: WasmOffsetData = { import_functions: 0, offset_map: {}, func_starts: [], name_map: {} };
  const r = new Reader(bytes, 8); // after magic + version
  while (r.pos < bytes.length) {
    const id = r.u8();
    const end = r.leb() + r.pos;
    if (id === 2) {
      // import section: count the function imports (kind 0)
      for (let n = r.leb(); n > 0; n--) {
        r.skipName(); // module
        r.skipName(); // field
        const kind = r.u8();
        if (kind === 0) {
          r.leb();
          out.import_functions++;
        } else if (kind === 1) {
          r.u8(); // reftype
          r.limits();
        } else if (kind === 2) {
          r.limits();
        } else if (kind === 3) {
          r.pos += 2; // valtype + mutability
        } else {
          r.leb(); // tag attribute + type
          r.leb();
        }
      }
    } else if (id === 10) {
      // code section: body offsets, numbered after the imported functions
      let index = out.import_functions;
      for (let n = r.leb(); n > 0; n--) {
        const bodySize = r.leb();
        out.offset_map[index++] = r.pos;
        out.func_starts.push(r.pos);
        r.pos += bodySize;
      }
    }
    r.pos = end;
  }
  const decoder = new TextDecoder();
  for (const section of WebAssembly.Module.customSections(module, 'name')) {
    const n = new Reader(new Uint8Array(section));
    while (n.pos < n.b.length) {
      const sub = n.u8();
      const subEnd = n.leb() + n.pos;
      if (sub === 1) {
        // function names: (index, name) pairs
        for (let count = n.leb(); count > 0; count--) {
          const idx = n.leb();
          const len = n.leb();
          out.name_map[idx] = decoder.decode(n.b.subarray(n.pos, n.pos + len));
          n.pos += len;
        }
      }
      n.pos = subEnd;
    }
  }
  return out;
}
