// The balancer-manager page as httpd 2.4 prints it (a sample of its shape: two balancers, one with
// mod_proxy_hcheck's extra columns), read into what a rolling restart needs: each balancer's nonce,
// each worker's URL, route, flags and busy count; and the form that sets a worker's flags.
import { readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import { parseBalancerManager, parseWorkerFlags, unsettledWorkers, workerUpdateForm } from '../../helpers/lab/balancer-manager.ts'

const page = readFileSync(new URL('./fixtures/balancer-manager.html', import.meta.url), 'utf8')

describe('balancer-manager page', () => {
  test('every balancer with its nonce, every worker with its URL, route, factor, status, busy count and load', () => {
    const balancers = parseBalancerManager(page)
    expect(balancers.map((b) => [b.name, b.nonce])).toEqual([
      ['shop', '0f1e2d3c-aaaa-bbbb-cccc-000000000001'],
      ['api', '0f1e2d3c-aaaa-bbbb-cccc-000000000002'],
    ])
    expect(balancers[0]!.workers.map((w) => [w.url, w.route, w.status, w.factor, w.elected, w.busy, w.load, w.to, w.from])).toEqual([
      ['http://10.9.8.141:8080', 'tc-a', 'Init Ok', 1, 1204, 3, -100, '1.2M', '9.8M'],
      ['http://10.9.8.142:8080', 'tc-b', 'Init Drn Dis', 1, 977, 0, 100, '1.0M', '8.1M'],
      ['http://10.9.8.143:8080', 'tc-c', 'Init Err', 1, 12, 0, 0, '0', '0'],
    ])
  })

  test('columns are found by name: the health-check columns after From do not shift Busy or Load', () => {
    const [api] = parseBalancerManager(page).slice(1)
    expect(api!.workers).toEqual([{
      url: 'ajp://10.9.8.141:8009', route: '', status: 'Init Drn Ok', factor: 1, load: 0, elected: 40, busy: 1, to: '10K', from: '80K',
      flags: { draining: true, disabled: false, error: false, usable: true },
    }])
  })

  test('status words: drained and disabled is not usable, in error is not usable, Ok is', () => {
    expect(parseWorkerFlags('Init Ok ')).toEqual({ draining: false, disabled: false, error: false, usable: true })
    expect(parseWorkerFlags('Init Drn Dis ')).toEqual({ draining: true, disabled: true, error: false, usable: false })
    expect(parseWorkerFlags('Init Err ')).toEqual({ draining: false, disabled: false, error: true, usable: false })
  })

  test('a page that is not balancer-manager has no balancers; a section without its nonce is an error naming it', () => {
    expect(parseBalancerManager('<html><body>It works!</body></html>')).toEqual([])
    expect(() => parseBalancerManager('<h3>LoadBalancer Status for <a href="/balancer-manager?b=shop">balancer://shop</a></h3>'))
      .toThrow(/without its b= and nonce= link/)
  })
})

describe('the update form', () => {
  test('names the balancer, the worker and the nonce, and sets only the flags asked for (N drain, D disabled)', () => {
    const balancer = { name: 'shop', nonce: 'n-1' }
    const drain = new URLSearchParams(workerUpdateForm(balancer, 'http://10.9.8.142:8080', { drain: true, disabled: true }))
    expect(Object.fromEntries(drain)).toEqual({ b: 'shop', w: 'http://10.9.8.142:8080', nonce: 'n-1', w_status_N: '1', w_status_D: '1' })
    const enable = new URLSearchParams(workerUpdateForm(balancer, 'http://10.9.8.142:8080', { disabled: false }))
    expect(Object.fromEntries(enable)).toEqual({ b: 'shop', w: 'http://10.9.8.142:8080', nonce: 'n-1', w_status_D: '0' })
  })
})

describe('a balancer as a fresh start leaves it (what the lab resets between tests)', () => {
  const balancer = (loads: number[], status = 'Init Ok') => [{
    name: 'mycluster', nonce: 'n',
    workers: loads.map((load, i) => ({
      url: `http://10.9.8.14${i + 1}:8080`, route: `node0${i + 1}`, status, flags: parseWorkerFlags(status), factor: 1, load, elected: 0, busy: 0, to: '0', from: '0',
    })),
  }]

  test("byrequests' turns (measured: -100 and 100 for two members) are settled", () => {
    expect(unsettledWorkers(balancer([-100, 100]))).toEqual([])
    expect(unsettledWorkers(balancer([0, 0]))).toEqual([])
  })

  test('the Load 21 sticky requests left (-2100 and 2100) is not, nor a SIGKILL under 50 users (17400 and -17400), nor a member in error', () => {
    expect(unsettledWorkers(balancer([17400, -17400]))).toEqual([
      'mycluster http://10.9.8.141:8080 Init Ok (Load 17400)', 'mycluster http://10.9.8.142:8080 Init Ok (Load -17400)',
    ])
    expect(unsettledWorkers(balancer([-2100, 2100]))).toHaveLength(2)
    expect(unsettledWorkers(balancer([0, 0], 'Init Err'))).toHaveLength(2)
  })

  test('the bound is the sum of the factors: lbfactor=3 beside 1 may swing to 400', () => {
    const [b] = balancer([-300, 300])
    b!.workers[0]!.factor = 3
    expect(unsettledWorkers([b!])).toEqual([])
    b!.workers[1]!.load = 500
    expect(unsettledWorkers([b!])).toEqual(['mycluster http://10.9.8.142:8080 Init Ok (Load 500)'])
  })
})
