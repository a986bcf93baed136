// What the director VM's cache (.cache/vm) sheds once the current image's kernel, initramfs and
// state are in place: earlier images' directories, states for another QEMU, and the staging
// copies of a killed run, but never what a live run is still writing.
import { describe, expect, test } from 'vitest'
import { staleVmCache } from '../../helpers/lab/ipvs/vm.ts'

const keep = { dir: '78ea54b560ed92dc', state: 'state-d9f2dca6807b' }
const running = new Set([4242])
const alive = (pid: number) => running.has(pid)

describe('the director VM cache', () => {
  test('an earlier image directory and a state for another QEMU go; the current ones and run/ stay', () => {
    expect(staleVmCache(['78ea54b560ed92dc', '0123456789abcdef', 'run'], ['vmlinuz', 'initramfs.cpio.zst', 'state-d9f2dca6807b', 'state-aaaaaaaaaaaa'], keep, alive))
      .toEqual(['0123456789abcdef', '78ea54b560ed92dc/state-aaaaaaaaaaaa'])
  })

  test("a killed run's staging copies go; a live run's stay", () => {
    expect(staleVmCache(['78ea54b560ed92dc', '78ea54b560ed92dc.tmp-999-a1b2c3', '78ea54b560ed92dc.tmp-4242-d4e5f6'],
      ['state-d9f2dca6807b', 'state-d9f2dca6807b.tmp-999-0a0b0c', 'state-d9f2dca6807b.tmp-4242-0d0e0f'], keep, alive))
      .toEqual(['78ea54b560ed92dc.tmp-999-a1b2c3', '78ea54b560ed92dc/state-d9f2dca6807b.tmp-999-0a0b0c'])
  })

  test('nothing else is touched: files of other names stay', () => {
    expect(staleVmCache(['78ea54b560ed92dc', 'run', 'notes.txt'], ['vmlinuz', 'state-d9f2dca6807b', 'README'], keep, alive)).toEqual([])
  })
})
