import type { GuestMemory } from '../kernel/host-kernel.js';

/** Typed access to a machine's linear memory that survives memory growth: growing a (non-shared)
 *  WebAssembly memory detaches its old buffer, so every accessor checks that cheap sign (a zero
 *  byteLength) and only then asks the memory for its new buffer. */
export class GuestView implements GuestMemory {
  private buffer: ArrayBuffer | undefined;
  private u8: Uint8Array = new Uint8Array(0);
  private dv: DataView = new DataView(new ArrayBuffer(0));

  /** `current` returns the memory's buffer now (a new one after each growth). */
  constructor(private readonly current: () => ArrayBuffer) {}

  /** Forgets the views (a reboot brings a new memory whose old buffer is not detached). */
  invalidate(): void {
    this.buffer = undefined;
  }

  bytes(): Uint8Array {
    if (this.buffer !== undefined && this.buffer.byteLength !== 0) return this.u8;
    const buffer = this.current();
    if (buffer !== this.buffer) {
      this.buffer = buffer;
      this.u8 = new Uint8Array(buffer);
      this.dv = new DataView(buffer);
    }
    return this.u8;
  }

  view(): DataView {
    this.bytes();
    return this.dv;
  }

  u32(addr: number): number {
    return this.view().getUint32(addr, true);
  }

  i32(addr: number): number {
    return this.view().getInt32(addr, true);
  }

  setU32(addr: number, v: number): void {
    this.view().setUint32(addr, v >>> 0, true);
  }

  setI32(addr: number, v: number): void {
    this.view().setInt32(addr, v | 0, true);
  }

  u16(addr: number): number {
    return this.view().getUint16(addr, true);
  }

  setU16(addr: number, v: number): void {
    this.view().setUint16(addr, v, true);
  }

  /** NUL-terminated string (ASCII/UTF-8) at addr, up to max bytes. */
  cstring(addr: number, max = 4096): string {
    const u8 = this.bytes();
    let end = addr;
    const limit = Math.min(u8.length, addr + max);
    while (end < limit && u8[end] !== 0) end++;
    return new TextDecoder().decode(u8.subarray(addr, end));
  }

  /** Copy of `len` bytes at addr. */
  read(addr: number, len: number): Uint8Array {
    return this.bytes().slice(addr, addr + len);
  }

  write(addr: number, data: Uint8Array): void {
    this.bytes().set(data, addr);
  }
}
