#!/bin/sh
# Baked into the image as /usr/local/tomcat/bin/setenv.sh: catalina.sh sources it on every start.
# The dns membership provider looks the peers up again every few seconds, but the JVM keeps each
# DNS answer 30 s, so a pod that starts later stays unknown for that long to a peer that asked
# before it: keep answers 5 s instead.
export CATALINA_OPTS="$CATALINA_OPTS -Dsun.net.inetaddr.ttl=5 -Xms512m -Xmx1g -XX:+UseG1GC"
