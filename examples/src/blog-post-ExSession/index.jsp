<%--
  ExSession as the original post used it: one page in the style of Tomcat's SessionExample that
  shows which node served the request, the session's id and times and what it holds, and stores
  an attribute from ?dataName=...&dataValue=.... Stop the node it names, reload: the same id (its
  route suffix rewritten), the same creation time and the same data, served by the other node.
  Every attribute is a String, so the cluster can serialize it.
--%>
<%@ page contentType="text/html; charset=UTF-8" session="true" trimDirectiveWhitespaces="true"
         import="java.lang.management.ManagementFactory, java.util.Collections, java.util.Date, java.util.TreeSet, javax.management.MBeanServer, javax.management.ObjectName" %>
<%!
    /** The Engine's jvmRoute as server.xml sets it, read from Tomcat's own JMX bean. */
    static String jvmRoute() {
        try {
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            for (ObjectName engine : server.queryNames(new ObjectName("*:type=Engine"), null)) {
                Object route = server.getAttribute(engine, "jvmRoute");
                if (route != null) {
                    return route.toString();
                }
            }
        } catch (Exception e) {
            return "(unknown: " + e + ")";
        }
        return "(no jvmRoute)";
    }

    static String html(Object value) {
        String s = String.valueOf(value);
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<': b.append("&lt;"); break;
                case '>': b.append("&gt;"); break;
                case '&': b.append("&amp;"); break;
                case '"': b.append("&quot;"); break;
                case '\'': b.append("&#39;"); break;
                default: b.append(c);
            }
        }
        return b.toString();
    }
%>
<%
    String dataName = request.getParameter("dataName");
    String dataValue = request.getParameter("dataValue");
    if (dataName != null && !dataName.isEmpty() && dataValue != null) {
        session.setAttribute(dataName, dataValue);
    }
    String node = jvmRoute();
%>
<!DOCTYPE html>
<html>
<head><meta charset="UTF-8"><title>ExSession on <%= html(node) %></title></head>
<body>
<h1>ExSession</h1>
<p>Served by node <b><%= html(node) %></b> (port <%= request.getLocalPort() %>)</p>
<h2>Session</h2>
<table>
  <tr><th align="left">Session ID</th><td><%= html(session.getId()) %></td></tr>
  <tr><th align="left">Created</th><td><%= new Date(session.getCreationTime()) %></td></tr>
  <tr><th align="left">Last accessed</th><td><%= new Date(session.getLastAccessedTime()) %></td></tr>
</table>
<h2>The following data is in your session</h2>
<table>
<% for (String name : new TreeSet<>(Collections.list(session.getAttributeNames()))) { %>
  <tr><th align="left"><%= html(name) %></th><td><%= html(session.getAttribute(name)) %></td></tr>
<% } %>
</table>
<h2>Store data in your session</h2>
<form action="" method="GET">
  Name of session attribute: <input type="text" name="dataName">
  Value of session attribute: <input type="text" name="dataValue">
  <input type="submit" value="Store">
</form>
</body>
</html>
