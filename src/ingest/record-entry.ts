/**
 * The layout of one packet listed by the addon's record walk (native/record_index.cc
 * `Out`; src/ingest/record-index.ts): ENTRY_STRIDE numbers in a Float64Array, `off`
 * into the walk's window. Its own module so that the Dissector reads entries without
 * loading the addon's wrapper.
 */
export const ENTRY = { seq: 0, off: 1, len: 2, wire: 3, sec: 4, psec: 5, own: 6 } as const;
export const ENTRY_STRIDE = 7;
