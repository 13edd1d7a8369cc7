/**
 * The symbol table of a static big-endian 32-bit ELF (the checker image): name -> address.
 * @module
 */

/**
 * Reads the `.symtab` of a big-endian ELF32 file; an empty map if it has none (stripped).
 *
 * @example
 * ```ts
 * const syms = elfSymbols(Deno.readFileSync(rt.check));
 * const addNode = syms.get("add_node");
 * ```
 * @throws {RangeError} when the file is not a big-endian ELF32 or its tables run past its end.
 */
export function elfSymbols(elf: Uint8Array): Map<string, number> {
  const v = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  if (elf.length < 52 || v.getUint32(0) !== 0x7f454c46 || elf[4] !== 1 || elf[5] !== 2) {
    throw new RangeError("not a big-endian 32-bit ELF file");
  }
  const shoff = v.getUint32(32), shentsize = v.getUint16(46), shnum = v.getUint16(48);
  const out = new Map<string, number>();
  if (shoff === 0 || shnum === 0) return out;
  if (shentsize < 40 || shoff + shnum * shentsize > elf.length) {
    throw new RangeError("section headers past the end of the file");
  }
  const sh = (i: number) => {
    const o = shoff + i * shentsize;
    return {
      type: v.getUint32(o + 4),
      offset: v.getUint32(o + 16),
      size: v.getUint32(o + 20),
      link: v.getUint32(o + 24),
    };
  };
  const dec = new TextDecoder();
  for (let i = 0; i < shnum; i++) {
    const s = sh(i);
    if (s.type !== 2 /* SHT_SYMTAB */) continue;
    if (s.link >= shnum) throw new RangeError("symbol table without a string table");
    const str = sh(s.link);
    if (s.offset + s.size > elf.length || str.offset + str.size > elf.length) {
      throw new RangeError("symbol table past the end of the file");
    }
    for (let o = s.offset; o + 16 <= s.offset + s.size; o += 16) {
      const nameOff = v.getUint32(o);
      if (nameOff === 0 || nameOff >= str.size) continue;
      let e = str.offset + nameOff;
      while (e < str.offset + str.size && elf[e] !== 0) e++;
      const name = dec.decode(elf.subarray(str.offset + nameOff, e));
      if (!out.has(name)) out.set(name, v.getUint32(o + 4));
    }
  }
  return out;
}
