package exsession;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/**
 * The cluster members this node sees, as JSON ({"node":"node01","clustered":true,
 * "localMember":"172.30.77.2:4001","members":["172.30.77.3:4001"]}), read from the JMX bean that Tomcat's multicast
 * membership service registers (ClusterChannel:type=Channel,...,component=Membership).
 * A test polls this instead of scraping "Replication member added" from the log.
 */
public class ClusterServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    /** A member's name is MemberImpl.toString(): "...[tcp://{172, 30, 77, 3}:4001,..." (signed bytes). */
    private static final Pattern ADDRESS = Pattern.compile("tcp://(?:\\{([-0-9, ]+)\\}|([^:,\\]]+)):(\\d+)");

    /** "host:port" of a member name, or the whole name if it has an unexpected shape. */
    static String address(String memberName) {
        Matcher m = ADDRESS.matcher(memberName);
        if (!m.find()) {
            return memberName;
        }
        String host = m.group(2);
        if (m.group(1) != null) {
            StringBuilder b = new StringBuilder();
            for (String part : m.group(1).split(",")) {
                if (b.length() > 0) {
                    b.append('.');
                }
                b.append(Integer.parseInt(part.trim()) & 0xff);
            }
            host = b.toString();
        }
        return host + ":" + m.group(3);
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String node = SessionServlet.nodeName();
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        StringBuilder b = new StringBuilder(256);
        b.append("{\"node\":").append(SessionServlet.jsonString(node));
        Set<String> members = new TreeSet<>();
        String local = null;
        boolean clustered = false;
        try {
            for (ObjectName name : server.queryNames(
                    new ObjectName("*:type=Channel,component=Membership,*"), null)) {
                clustered = true;
                Object byName = server.getAttribute(name, "MembersByName");
                if (byName instanceof String[]) {
                    for (String m : (String[]) byName) {
                        members.add(address(m));
                    }
                }
                Object localName = server.getAttribute(name, "LocalMemberName");
                if (localName != null) {
                    local = address(localName.toString());
                }
            }
        } catch (JMException e) {
            resp.sendError(HttpServletResponse.SC_INTERNAL_SERVER_ERROR, "JMX: " + e);
            return;
        }
        b.append(",\"clustered\":").append(clustered);
        b.append(",\"localMember\":").append(local == null ? "null" : SessionServlet.jsonString(local));
        b.append(",\"members\":[");
        boolean first = true;
        for (String m : members) {
            if (!first) {
                b.append(',');
            }
            first = false;
            b.append(SessionServlet.jsonString(m));
        }
        b.append("]}\n");
        resp.setHeader("X-Node", node);
        resp.setHeader("Cache-Control", "no-store");
        resp.setCharacterEncoding("UTF-8");
        resp.setContentType("application/json");
        resp.getWriter().write(b.toString());
    }
}
