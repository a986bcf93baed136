// Removes leftovers of crashed runs — containers, networks, TAP devices, QEMU processes and host
// NAT rules labelled or named lb-e2e whose run is no longer alive — and nothing else.
import { describeLeftovers, findLeftovers, removeLeftovers } from '../helpers/lab/cleanup.ts'

const found = findLeftovers('orphans')
removeLeftovers(found)
console.log(`removed: ${describeLeftovers(found)}`)
