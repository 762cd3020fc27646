/** A per-machine descriptor table: lowest free number first, starting at 3 (0-2 are stdio). */
export class FdTable<T> {
  private readonly files = new Map<number, T>();

  constructor(private readonly first = 3) {}

  alloc(file: T): number {
    let fd = this.first;
    while (this.files.has(fd)) fd++;
    this.files.set(fd, file);
    return fd;
  }

  get(fd: number): T | undefined {
    return this.files.get(fd);
  }

  delete(fd: number): T | undefined {
    const f = this.files.get(fd);
    this.files.delete(fd);
    return f;
  }

  entries(): IterableIterator<[number, T]> {
    return this.files.entries();
  }

  get size(): number {
    return this.files.size;
  }
}
