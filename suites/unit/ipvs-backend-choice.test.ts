import { describe, expect, test } from 'vitest'
import { choose, type Probe } from '../../helpers/lab/ipvs/pick.ts'

const bare: Probe = { kernel: '6.18.44', ipvs: false, ipvsadm: false, qemu: false }

describe('choosing the IPVS director backend', () => {
  test.each([
    [{ ipvs: true, ipvsadm: true, qemu: true }, 'host'],
    [{ ipvs: true, ipvsadm: false, qemu: true }, 'container'],
    [{ ipvs: false, ipvsadm: true, qemu: true }, 'vm'],
  ] as const)('auto with %j picks %s and says why', (found, backend) => {
    const choice = choose({ ...bare, ...found }, 'auto')
    expect(choice.backend).toBe(backend)
    expect(choice.reason).toContain(`/proc/net/ip_vs ${found.ipvs ? 'present' : 'absent'}`)
  })

  test('with nothing usable, auto fails naming every probe and backend tried', () => {
    expect(() => choose(bare, 'auto')).toThrow(
      /no IPVS director can run here; probed kernel 6\.18\.44: \/proc\/net\/ip_vs absent, ipvsadm not installed, qemu-system-x86_64 not installed\. Tried, in order: host .*; container .*; vm /)
  })

  test('an explicit backend whose needs are missing fails instead of falling back', () => {
    expect(() => choose({ ...bare, qemu: true }, 'host')).toThrow('LAB_IPVS_BACKEND=host cannot run here: it needs a kernel with IPVS')
    expect(choose({ ...bare, ipvs: true }, 'container').backend).toBe('container')
  })
})
