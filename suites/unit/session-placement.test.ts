// Where a session lives, from each node's own report (ExSession's /cluster?session= "placement"):
// member addresses named by the node whose Receiver they are, as the cluster view's members are.
import { describe, expect, test } from 'vitest'
import { expectBackedUpOnce } from '../../helpers/checks/backup.ts'
import { type SessionRoleReport, describePlacement, placeSession } from '../../helpers/lab/exsession.ts'

const report = (node: string, localMember: string, rest: Partial<SessionRoleReport>): SessionRoleReport =>
  ({ node, localMember, manager: 'BackupManager', role: 'none', primary: null, backups: [], ...rest })

describe('placeSession', () => {
  test('BackupManager, three nodes: the primary names its backup by node, the third is a proxy', () => {
    const p = placeSession([
      report('tomcat1', '172.30.0.141:4000', { role: 'primary', primary: '172.30.0.141:4000', backups: ['172.30.0.143:4000'] }),
      report('tomcat2', '172.30.0.142:4000', { role: 'proxy', primary: '172.30.0.141:4000', backups: ['172.30.0.143:4000'] }),
      report('tomcat3', '172.30.0.143:4000', { role: 'backup', primary: '172.30.0.141:4000', backups: ['172.30.0.143:4000'] }),
    ])
    expect(p.byRole).toEqual({ primary: ['tomcat1'], proxy: ['tomcat2'], backup: ['tomcat3'] })
    expect(p.roles[0]).toEqual({ node: 'tomcat1', manager: 'BackupManager', role: 'primary', primary: 'tomcat1', backups: ['tomcat3'] })
    expect(describePlacement(p)).toBe('tomcat1 primary (backups: tomcat3) [BackupManager], tomcat2 proxy [BackupManager], tomcat3 backup [BackupManager]')
  })

  test('DeltaManager: every node a replica, no backups named', () => {
    const p = placeSession(['a', 'b', 'c'].map((n, i) => report(n, `10.0.0.${i}:4001`, { manager: 'DeltaManager', role: 'replica' })))
    expect(p.byRole).toEqual({ replica: ['a', 'b', 'c'] })
  })

  test('an address of no node of the lab stays an address', () => {
    const p = placeSession([report('a', '10.0.0.1:4000', { role: 'primary', primary: '10.0.0.1:4000', backups: ['10.9.9.9:4000'] })])
    expect(p.roles[0]!.backups).toEqual(['10.9.9.9:4000'])
  })
})

describe('expectBackedUpOnce: the check can fail', () => {
  const three = (roles: Partial<SessionRoleReport>[]) => placeSession(roles.map((r, i) => report(`tomcat${i + 1}`, `10.0.0.${i + 1}:4000`, r)))
  const primary = { role: 'primary' as const, primary: '10.0.0.1:4000', backups: ['10.0.0.3:4000'] }

  test('BackupManager as it should be: the backup, named', () => {
    expect(expectBackedUpOnce(three([primary, { role: 'proxy' }, { role: 'backup' }]), 'tomcat1')).toEqual({ backup: 'tomcat3', others: ['tomcat2'] })
  })

  test('DeltaManager, every node holding the session, fails "exactly one backup"', () => {
    const delta = placeSession(['tomcat1', 'tomcat2', 'tomcat3'].map((n, i) => report(n, `10.0.0.${i + 1}:4001`, { manager: 'DeltaManager', role: 'replica' })))
    expect(() => expectBackedUpOnce(delta, 'tomcat1')).toThrow(/exactly one node besides the primary tomcat1 holds a copy .*tomcat1 replica \[DeltaManager\], tomcat2 replica/)
  })

  test('a primary naming another node than the one holding the copy fails', () => {
    expect(() => expectBackedUpOnce(three([{ ...primary, backups: ['10.0.0.2:4000'] }, { role: 'proxy' }, { role: 'backup' }]), 'tomcat1'))
      .toThrow(/the primary tomcat1 names tomcat3 as the session's one backup/)
  })

  test('no backup at all (a lone primary) fails', () => {
    expect(() => expectBackedUpOnce(three([{ ...primary, backups: [] }, { role: 'proxy' }, { role: 'none' }]), 'tomcat1')).toThrow(/exactly one node besides the primary/)
  })
})
