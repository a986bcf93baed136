#!/bin/sh
# on tomcat1 (tomcat2 passes its own name)
CATALINA_OPTS="$CATALINA_OPTS -DjvmRoute=tomcat1"
