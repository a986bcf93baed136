// The bench's failover knobs (scripts/bench-parts/knobs.ts): each is exact edits of the current
// fixtures, so a fixture change that makes one stale fails here, not half-way through a bench run.
import { describe, expect, test } from 'vitest'
import { KNOBS, applyEdits } from '../../scripts/bench-parts/knobs.ts'
import { readServerXml } from '../../helpers/validate/tomcat.ts'

describe('bench knobs', () => {
  test.each(KNOBS.map((k) => [`${k.knob} = ${k.value}`, k] as const))('%s applies to the current fixtures and leaves a readable server.xml', (_, knob) => {
    const texts = applyEdits(knob)
    expect(Object.keys(texts).length).toBe(new Set(knob.edits.map((e) => e.file)).size)
    const xml = texts['tomcat/server.xml']
    if (xml) expect(readServerXml(xml, 'server.xml', { jvmRoute: 'node01', 'http.port': '8080', 'shutdown.port': '8005' }).cluster).toBeDefined()
  })

  test('the single knobs start from the fixtures before #16: no ping, the detector at its defaults', () => {
    const baseline = applyEdits(KNOBS.find((k) => k.knob === 'baseline')!)['tomcat/server.xml']!
    const detector = readServerXml(baseline, 'server.xml', { jvmRoute: 'node01', 'http.port': '8080', 'shutdown.port': '8005' }).cluster!.interceptors
    expect(detector.map((i) => i.className.split('.').at(-1))).toEqual(['TcpFailureDetector', 'MessageDispatchInterceptor'])
    expect(detector[0]!.attributes.connectTimeout).toBeUndefined()
  })

  test('an edit whose text the fixture no longer holds is an error naming the knob', () => {
    expect(() => applyEdits({ knob: 'x', value: 'y', edits: [{ file: 'tomcat/server.xml', from: '<NoSuchElement/>', to: '' }] }))
      .toThrow('knob x = y: fixtures/tomcat/server.xml no longer holds "<NoSuchElement/>"')
  })
})
