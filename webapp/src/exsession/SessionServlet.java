package exsession;

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import javax.servlet.http.HttpSession;

/**
 * ExSession: shows which node served the request and what the HttpSession holds, so a person
 * (HTML) or a test (JSON) can see a session survive the loss of the node it was created on.
 */
public class SessionServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    /** Per-session request counter; an Integer so any node can deserialize it. */
    static final String COUNTER = "requestCount";

    /**
     * The node as the balancer knows it: the Engine's jvmRoute (the session id suffix), from
     * Tomcat's JMX; the lab's name for the node (-Dlb-e2e.node) when the Engine has none.
     */
    static String nodeName() {
        try {
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            for (ObjectName engine : server.queryNames(new ObjectName("*:type=Engine"), null)) {
                Object route = server.getAttribute(engine, "jvmRoute");
                if (route != null && !route.toString().isEmpty()) {
                    return route.toString();
                }
            }
        } catch (JMException e) {
            // no Engine bean: the lab's name below
        }
        return System.getProperty("lb-e2e.node", "");
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String node = nodeName();
        HttpSession session = req.getSession(true);
        boolean isNew = session.isNew();

        Object previous = session.getAttribute(COUNTER);
        int count = (previous instanceof Integer ? (Integer) previous : 0) + 1;
        // Set on every request (not mutate in place) so DeltaManager replicates the change.
        session.setAttribute(COUNTER, Integer.valueOf(count));

        String dataName = req.getParameter("dataName");
        String dataValue = req.getParameter("dataValue");
        if (dataName != null && !dataName.isEmpty() && dataValue != null) {
            session.setAttribute(dataName, dataValue);
        }

        List<String> names = new ArrayList<>(Collections.list(session.getAttributeNames()));
        Collections.sort(names);

        resp.setHeader("X-Node", node);
        resp.setHeader("Cache-Control", "no-store");
        resp.setCharacterEncoding("UTF-8");

        Facts facts = new Facts(node, req.getRequestedSessionId(), session.getId(), isNew,
                session.getCreationTime(), session.getLastAccessedTime(), count);
        if (wantsJson(req)) {
            resp.setContentType("application/json");
            writeJson(resp.getWriter(), facts, session, names);
        } else {
            resp.setContentType("text/html");
            writeHtml(resp.getWriter(), facts, session, names);
        }
    }

    private static boolean wantsJson(HttpServletRequest req) {
        if ("json".equalsIgnoreCase(req.getParameter("format"))) {
            return true;
        }
        String accept = req.getHeader("Accept");
        return accept != null && accept.toLowerCase().contains("application/json");
    }

    private static final class Facts {
        final String node;
        final String requestedSessionId;
        final String sessionId;
        final boolean isNew;
        final long creationTime;
        final long lastAccessedTime;
        final int requestCount;

        Facts(String node, String requestedSessionId, String sessionId, boolean isNew,
                long creationTime, long lastAccessedTime, int requestCount) {
            this.node = node;
            this.requestedSessionId = requestedSessionId;
            this.sessionId = sessionId;
            this.isNew = isNew;
            this.creationTime = creationTime;
            this.lastAccessedTime = lastAccessedTime;
            this.requestCount = requestCount;
        }
    }

    private static void writeJson(PrintWriter out, Facts f, HttpSession session, List<String> names) {
        StringBuilder b = new StringBuilder(256);
        b.append('{');
        b.append("\"node\":").append(jsonString(f.node));
        b.append(",\"sessionId\":").append(jsonString(f.sessionId));
        b.append(",\"requestedSessionId\":").append(f.requestedSessionId == null ? "null" : jsonString(f.requestedSessionId));
        b.append(",\"isNew\":").append(f.isNew);
        b.append(",\"creationTime\":").append(f.creationTime);
        b.append(",\"creationTimeIso\":").append(jsonString(Instant.ofEpochMilli(f.creationTime).toString()));
        b.append(",\"lastAccessedTime\":").append(f.lastAccessedTime);
        b.append(",\"lastAccessedTimeIso\":").append(jsonString(Instant.ofEpochMilli(f.lastAccessedTime).toString()));
        b.append(",\"requestCount\":").append(f.requestCount);
        appendAttributes(b, session, names);
        b.append("}\n");
        out.write(b.toString());
    }

    /** {@code ,"attributes":{...}}: the session's attributes in {@code names}' order, values as strings. */
    static void appendAttributes(StringBuilder b, HttpSession session, List<String> names) {
        b.append(",\"attributes\":{");
        boolean first = true;
        for (String name : names) {
            if (!first) {
                b.append(',');
            }
            first = false;
            b.append(jsonString(name)).append(':').append(jsonString(String.valueOf(session.getAttribute(name))));
        }
        b.append('}');
    }

    /** A JSON string literal (RFC 8259): quotes, backslash and all control characters escaped. */
    static String jsonString(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2);
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\b': b.append("\\b"); break;
                case '\f': b.append("\\f"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                case '\t': b.append("\\t"); break;
                default:
                    // U+2028/2029 too, so the output is also safe to embed in JavaScript.
                    if (c < 0x20 || c == '\u2028' || c == '\u2029') {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
            }
        }
        return b.append('"').toString();
    }

    private static void writeHtml(PrintWriter out, Facts f, HttpSession session, List<String> names) {
        out.println("<!DOCTYPE html>");
        out.println("<html><head><meta charset=\"utf-8\"><title>ExSession on " + html(f.node) + "</title></head><body>");
        out.println("<h1>ExSession: served by " + html(f.node) + "</h1>");
        out.println("<table>");
        row(out, "Node (jvmRoute)", f.node);
        row(out, "Session ID", f.sessionId);
        row(out, "Requested session ID", String.valueOf(f.requestedSessionId));
        row(out, "New session", String.valueOf(f.isNew));
        row(out, "Created", Instant.ofEpochMilli(f.creationTime).toString());
        row(out, "Last accessed", Instant.ofEpochMilli(f.lastAccessedTime).toString());
        row(out, "Requests in this session", String.valueOf(f.requestCount));
        out.println("</table>");
        out.println("<h2>Session attributes</h2>");
        out.println("<table>");
        for (String name : names) {
            row(out, name, String.valueOf(session.getAttribute(name)));
        }
        out.println("</table>");
        out.println("<h2>Set an attribute</h2>");
        out.println("<form method=\"get\" action=\"\">");
        out.println("Name: <input type=\"text\" name=\"dataName\"> Value: <input type=\"text\" name=\"dataValue\">");
        out.println("<input type=\"submit\" value=\"Set\"></form>");
        out.println("<p><a href=\"?format=json\">as JSON</a></p>");
        out.println("</body></html>");
    }

    private static void row(PrintWriter out, String name, String value) {
        out.println("<tr><th align=\"left\">" + html(name) + "</th><td>" + html(value) + "</td></tr>");
    }

    static String html(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
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
}
