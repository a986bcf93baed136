// Tomcat's bin/setenv.sh in a team's directory: taken by the intake, its -D system properties
// into the plan and onto every node's java command line; the rest (heap, GC) left to the lab, said.
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { intake, removeIntake } from '../../helpers/intake/intake.ts'
import { describePlan, readPlan } from '../../helpers/intake/plan.ts'
import { propertyOptions, readSetenv } from '../../helpers/intake/setenv.ts'
import { fixture, teamDirs } from '../support/team-dir.ts'

const teamDir = teamDirs()
afterEach(() => { delete process.env.LAB_FIXTURES })

describe('setenv.sh', () => {
  test('CATALINA_OPTS and JAVA_OPTS as teams write them: -D properties taken, other options listed as not applied', () => {
    const text = [
      '#!/bin/sh',
      'export CATALINA_OPTS="$CATALINA_OPTS -Dsun.net.inetaddr.ttl=5 -Xmx1g"',
      "JAVA_OPTS='-Djava.security.egd=file:/dev/./urandom -XX:+UseG1GC'",
      'CATALINA_OPTS="${CATALINA_OPTS} -Dapp.env=prod \\',
      '  -Dsun.net.inetaddr.ttl=3"',
      'echo unrelated',
    ].join('\n')
    expect(readSetenv(text, 'bin/setenv.sh')).toEqual({
      properties: { 'sun.net.inetaddr.ttl': '3', 'java.security.egd': 'file:/dev/./urandom', 'app.env': 'prod' },
      ignored: ['-Xmx1g', '-XX:+UseG1GC'],
      perNode: [],
    })
    // One host's own values: the lab gives every node its own jvmRoute and ports instead.
    expect(readSetenv('CATALINA_OPTS="$CATALINA_OPTS -DjvmRoute=tomcat1 -Dhttp.port=8180 -Dapp=x"\n', 'setenv.sh'))
      .toEqual({ properties: { app: 'x' }, ignored: [], perNode: ['-DjvmRoute=tomcat1', '-Dhttp.port=8180'] })
    expect(propertyOptions({ a: '1', 'b.c': 'x' })).toBe('-Da=1 -Db.c=x')
  })

  test('a value the lab cannot know (a command substitution, another variable) is an error naming the line', () => {
    expect(() => readSetenv('#!/bin/sh\nCATALINA_OPTS="-DjvmRoute=$(hostname)"\n', 'bin/setenv.sh'))
      .toThrow('bin/setenv.sh:2: CATALINA_OPTS uses a command substitution the lab cannot know: write the options as literal values (the lab starts every node with them)')
    expect(() => readSetenv('JAVA_OPTS="$JAVA_OPTS -Dhome=$HOME"\n', 'setenv.sh')).toThrow('setenv.sh:1: JAVA_OPTS uses a shell variable the lab cannot know')
  })

  test('the intake takes a setenv.sh wherever it lies; the plan carries its properties and says what it left out', () => {
    const dir = teamDir({
      'conf/server.xml': fixture('tomcat/server.xml'),
      'bin/setenv.sh': 'export CATALINA_OPTS="$CATALINA_OPTS -Dsun.net.inetaddr.ttl=5 -Xmx1g"\n',
      'scripts/setenv.sh': 'echo not Tomcat\'s\n',
    })
    const taken = intake(dir)
    try {
      expect(taken.mapping).toContain("bin/setenv.sh: the JVM options every node starts with (its -D system properties; the lab's own heap and GC)")
      expect(taken.unused.map((u) => u.file)).toContain('scripts/setenv.sh')
      process.env.LAB_FIXTURES = taken.overlay
      const plan = readPlan({})
      expect(plan.jvm).toMatchObject({ properties: { 'sun.net.inetaddr.ttl': '5' }, ignored: ['-Xmx1g'], perNode: [] })
      expect(describePlan(plan)).toContain(": -Dsun.net.inetaddr.ttl=5 on every node; not applied (the lab's heap and GC): -Xmx1g")
    } finally {
      removeIntake(taken)
    }
  })

  test('without one, no JVM line and nothing added', () => {
    const dir = teamDir({ 'tomcat/server.xml': fixture('tomcat/server.xml') })
    writeFileSync(path.join(dir, 'README.md'), 'ours\n')
    process.env.LAB_FIXTURES = dir
    expect(readPlan({}).jvm).toBeUndefined()
  })
})
