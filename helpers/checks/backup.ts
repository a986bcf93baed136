/**
 * BackupManager's promise for a session, as assertions on where it lives (helpers/lab/exsession.ts
 * sessionPlacement): its primary holds it, exactly one other node holds a copy as its backup, and
 * the rest only know where it lives. Under DeltaManager every node holds a copy: this fails it.
 */
import { expect } from 'vitest'
import { type SessionPlacement, type SessionRoleName, describePlacement } from '../lab/exsession.ts'

/** Roles that mean the node holds the session itself, not just where it lives. */
const HOLDS: SessionRoleName[] = ['primary', 'backup', 'copy', 'replica']

/** The session made on `primary` is backed up on exactly one other node, which the primary names; returns it and the rest. */
export function expectBackedUpOnce(p: SessionPlacement, primary: string): { backup: string; others: string[] } {
  const shown = `where the session lives: ${describePlacement(p)}`
  const holders = p.roles.filter((r) => r.node !== primary && HOLDS.includes(r.role)).map((r) => r.node)
  expect(holders, `exactly one node besides the primary ${primary} holds a copy (its backup); ${shown}`).toHaveLength(1)
  const backup = holders[0]!
  const own = p.roles.find((r) => r.node === primary)
  expect(own?.role, `${primary}, which made the session, is its primary; ${shown}`).toBe('primary')
  expect(p.roles.find((r) => r.node === backup)?.role, `${backup} holds it as its backup; ${shown}`).toBe('backup')
  expect(own?.backups, `the primary ${primary} names ${backup} as the session's one backup; ${shown}`).toEqual([backup])
  const others = p.roles.filter((r) => r.node !== primary && r.node !== backup)
  for (const r of others) expect(['proxy', 'none'], `${r.node} only knows where the session lives; ${shown}`).toContain(r.role)
  return { backup, others: others.map((r) => r.node) }
}
