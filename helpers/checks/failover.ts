/**
 * A failover as the suites stage it: users stuck to one node, some whose state has settled (last
 * written longer ago than the lab's replication window) and some who write just before the node
 * goes away; then the node is stopped or killed, every user's first page from a survivor is
 * taken, and the rule of helpers/checks/replication.ts judges them.
 */
import { setTimeout as delay } from 'node:timers/promises'
import type { ExSessionUser, SessionPage } from '../lab/exsession.ts'
import type { TomcatLab } from '../lab/tomcat-lab.ts'
import { type FailoverCase, type FailoverVerdict, judgeFailover, replicationWindow } from './replication.ts'

export type Disruption = 'stop' | 'kill'

/** A user with a session on one node and what they wrote into it. */
export interface StagedUser {
  name: string
  user: ExSessionUser
  before: SessionPage
  lastWriteAt: number
  attributes: Record<string, string>
  recent?: string
}

/** The attributes a settled user writes (one in the request that creates the session, one later). */
export const ATTRIBUTES = { color: 'blue', cart: 'three books' }

/**
 * A user whose session lives on `node` (any node when omitted): the attributes written, then one
 * plain request. New users are tried until the balancer puts one there (at most 20).
 */
export async function userWithSession(lab: TomcatLab, name: string, node?: string, attributes: Record<string, string> = ATTRIBUTES): Promise<StagedUser> {
  const tried: string[] = []
  for (let attempt = 0; attempt < 20; attempt++) {
    const user = lab.user()
    const entries = Object.entries(attributes)
    const [first, ...rest] = entries
    const page = await user.visit(first ? { name: first[0], value: first[1] } : undefined)
    if (node !== undefined && page.node !== node) { tried.push(page.node); continue }
    for (const [k, v] of rest) await user.visit({ name: k, value: v })
    const before = await user.visit()
    return { name, user, before, lastWriteAt: performance.now(), attributes: { ...attributes } }
  }
  throw new Error(`${name}: 20 new users, none placed on ${node} by the balancer (${tried.join(', ')})`)
}

/** `u` writes `name=value` now: its last write, just before the failure. */
export async function writeNow(u: StagedUser, name: string, value: string): Promise<void> {
  u.before = await u.user.visit({ name, value })
  u.lastWriteAt = performance.now()
  u.attributes[name] = value
  u.recent = name
}

/**
 * The scenario's own schedule, not a readiness wait: until every one of `users` last wrote longer
 * ago than the lab's replication window, so their state counts as settled.
 */
export async function letSettle(lab: TomcatLab, users: StagedUser[]): Promise<void> {
  const window = await replicationWindow(lab)
  const youngest = Math.max(...users.map((u) => u.lastWriteAt))
  const wait = youngest + window.ms + 100 - performance.now()
  if (wait > 0) await delay(wait)
}

export interface FailoverResult {
  verdict: FailoverVerdict
  /** From the disruption to the first user's first page from a survivor. */
  gapMs: number
  /** The first user's failed attempts before it. */
  failures: string[]
  cases: FailoverCase[]
}

/** Takes `victim` down (`how`), then each user's first page from a survivor, judged. */
export async function failOver(lab: TomcatLab, users: StagedUser[], victim: string, how: Disruption, recoverWithinMs = 120_000): Promise<FailoverResult> {
  const window = await replicationWindow(lab)
  const survivors = lab.routes.filter((r) => r !== victim)
  const disruptedAt = performance.now()
  await (how === 'stop' ? lab.node(victim).shutdown() : lab.node(victim).kill())
  const cases: FailoverCase[] = []
  let gapMs = Number.NaN
  for (const u of users) {
    const c: FailoverCase = { user: u.name, before: u.before, lastWriteAt: u.lastWriteAt, attributes: u.attributes, failures: [], ...(u.recent ? { recent: u.recent } : {}) }
    try {
      const recovered = await lab.recover(u.user, disruptedAt, recoverWithinMs)
      c.after = recovered.page
      c.failures = recovered.failures
      if (Number.isNaN(gapMs)) gapMs = recovered.gapMs
    } catch (error) {
      c.failures.push((error as Error).message.slice(0, 300))
    }
    const cookie = await u.user.cookie()
    if (cookie !== undefined) c.cookie = cookie
    const routeCookie = c.after && lab.routeCookieFor(c.after.node)
    if (routeCookie) {
      const value = await u.user.cookie(routeCookie.name)
      c.routeCookie = { name: routeCookie.name, expected: routeCookie.value, ...(value !== undefined ? { value } : {}) }
    }
    cases.push(c)
  }
  return { verdict: judgeFailover(cases, disruptedAt, window, survivors), gapMs, failures: cases[0]?.failures ?? [], cases }
}
