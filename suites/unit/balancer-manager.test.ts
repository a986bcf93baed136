// The balancer-manager page as httpd 2.4 prints it (a sample of its shape: two balancers, one with
// mod_proxy_hcheck's extra columns), read into what a rolling restart needs: each balancer's nonce,
// each worker's URL, route, flags and busy count; and the form that sets a worker's flags.
import { readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import { parseBalancerManager, parseWorkerFlags, workerUpdateForm } from '../../helpers/lab/balancer-manager.ts'

const page = readFileSync(new URL('./fixtures/balancer-manager.html', import.meta.url), 'utf8')

describe('balancer-manager page', () => {
  test('every balancer with its nonce, every worker with its URL, route, status and busy count', () => {
    const balancers = parseBalancerManager(page)
    expect(balancers.map((b) => [b.name, b.nonce])).toEqual([
      ['shop', '0f1e2d3c-aaaa-bbbb-cccc-000000000001'],
      ['api', '0f1e2d3c-aaaa-bbbb-cccc-000000000002'],
    ])
    expect(balancers[0]!.workers.map((w) => [w.url, w.route, w.status, w.elected, w.busy, w.to, w.from])).toEqual([
      ['http://10.9.8.141:8080', 'tc-a', 'Init Ok', 1204, 3, '1.2M', '9.8M'],
      ['http://10.9.8.142:8080', 'tc-b', 'Init Drn Dis', 977, 0, '1.0M', '8.1M'],
      ['http://10.9.8.143:8080', 'tc-c', 'Init Err', 12, 0, '0', '0'],
    ])
  })

  test('columns are found by name: the health-check columns after From do not shift Busy', () => {
    const [api] = parseBalancerManager(page).slice(1)
    expect(api!.workers).toEqual([{
      url: 'ajp://10.9.8.141:8009', route: '', status: 'Init Drn Ok', elected: 40, busy: 1, to: '10K', from: '80K',
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
