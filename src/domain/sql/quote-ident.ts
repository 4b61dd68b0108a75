/**
 * A PostgreSQL identifier, double-quoted with inner quotes doubled (PostgreSQL docs, "Lexical
 * Structure — Identifiers and Key Words"), for SQL the domain writes (archive copies, unarchive
 * writes). Adapters use `pg.escapeIdentifier`, which does the same.
 */
export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;
