package exsession;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
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
import javax.servlet.http.HttpSession;

/**
 * The cluster members this node sees, as JSON ({"node":"node01","clustered":true,
 * "localMember":"172.30.77.2:4001","members":["172.30.77.3:4001"]}), read from the JMX beans of
 * Tomcat's channel: the membership service's (ClusterChannel:type=Channel,...,component=Membership;
 * multicast and static membership register one), the channel's own, and its Receiver's.
 * A test polls this instead of scraping "Replication member added" from the log.
 * The members are the channel's (GroupChannel, above its interceptors: what replication sends to),
 * falling back to the membership service's own list where the channel has no JMX bean.
 * "incarnations" are the same members as "host:port#id" (MemberImpl's uniqueId in hex), one per
 * entry and duplicates kept, for the channel ("members") and the membership service ("heard"), with
 * "localIncarnation": a node restarted at its old address is a new incarnation, and a dead one a
 * peer still lists beside it (TcpFailureDetector's TCP check reaches the new one) shows here.
 * With {@code ?session=ID} it also shows this node's copy of that session ("session": {...} or
 * null), read through the Manager without touching it: no access, no new session, no replication,
 * so a test can see whether a write has reached a peer without changing what it looks at.
 * "manager" names the context's session Manager (DeltaManager, BackupManager …), and with
 * {@code ?session=ID} "placement" says this node's part in keeping it: under BackupManager the
 * entry of its replicated map ({"role":"primary"|"backup"|"proxy"|"copy"|"none","primary":"host:port",
 * "backups":["host:port"]}), read with getInternal: the map's get() would fetch a copy here and
 * make this node the session's primary. Under any other Manager the role is "replica" (this node
 * holds its own copy) or "none".
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

    private static final Pattern ID = Pattern.compile("id=\\{([-0-9 ]+)\\}");

    /** "host:port#id" of a member name (its uniqueId's bytes in hex), or "host:port" when it names no id. */
    static String incarnation(String memberName) {
        Matcher m = ID.matcher(memberName);
        if (!m.find()) {
            return address(memberName);
        }
        StringBuilder b = new StringBuilder(address(memberName)).append('#');
        for (String part : m.group(1).trim().split(" +")) {
            b.append(String.format("%02x", Integer.parseInt(part) & 0xff));
        }
        return b.toString();
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String node = SessionServlet.nodeName();
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        StringBuilder b = new StringBuilder(256);
        b.append("{\"node\":").append(SessionServlet.jsonString(node));
        Set<String> members = new TreeSet<>();
        Set<String> channelMembers = null;
        List<String> heard = new ArrayList<>();
        List<String> channelIncarnations = null;
        String local = null;
        String localIncarnation = null;
        boolean clustered = false;
        String sessionJson = null;
        String placementJson = null;
        String managerName = null;
        try {
            for (ObjectName name : server.queryNames(
                    new ObjectName("*:type=Channel,component=Membership,*"), null)) {
                clustered = true;
                Object byName = server.getAttribute(name, "MembersByName");
                if (byName instanceof String[]) {
                    for (String m : (String[]) byName) {
                        members.add(address(m));
                        heard.add(incarnation(m));
                    }
                }
                // McastService names its local member; StaticMembershipService and the cloud
                // services do not: the Receiver's bound address is this member's then.
                try {
                    Object localName = server.getAttribute(name, "LocalMemberName");
                    if (localName != null) {
                        local = address(localName.toString());
                        localIncarnation = incarnation(localName.toString());
                    }
                } catch (javax.management.AttributeNotFoundException e) {
                    local = receiverAddress(server);
                }
            }
            for (ObjectName name : server.queryNames(new ObjectName("*:type=Channel,*"), null)) {
                // GroupChannel registers itself as ...,component=Channel (its Members: whom
                // replication sends to); the membership service and the interceptors have other
                // components.
                String component = name.getKeyProperty("component");
                if (component != null && !component.equals("Channel")) {
                    continue;
                }
                // A membership service without a JMX bean of its own (CloudMembershipService) still has a channel.
                if (!clustered) {
                    clustered = true;
                    local = receiverAddress(server);
                }
                Object channel = server.getAttribute(name, "Members");
                if (channel instanceof Object[]) {
                    channelMembers = channelMembers == null ? new TreeSet<>() : channelMembers;
                    channelIncarnations = channelIncarnations == null ? new ArrayList<>() : channelIncarnations;
                    for (Object m : (Object[]) channel) {
                        channelMembers.add(address(String.valueOf(m)));
                        channelIncarnations.add(incarnation(String.valueOf(m)));
                    }
                }
            }
            Object manager = null;
            Object map = null;
            String unreadable = null;
            try {
                manager = managerOf(req);
                map = manager == null ? null : replicatedMap(manager);
            } catch (ReflectiveOperationException | RuntimeException e) {
                // Readiness polls this page: a Tomcat whose internals moved still answers, saying so.
                unreadable = e.toString();
            }
            managerName = manager == null ? null : manager.getClass().getSimpleName();
            String id = req.getParameter("session");
            if (id != null && unreadable != null) {
                // findSession is a map get() under BackupManager: it would move the session here.
                sessionJson = replicatedByName(server, req.getContextPath()) ? null : sessionCopy(server, req.getContextPath(), id);
                placementJson = "{\"manager\":null,\"role\":\"unknown\",\"primary\":null,\"backups\":[],\"error\":"
                        + SessionServlet.jsonString(unreadable) + "}";
            } else if (id != null) {
                if (map != null) {
                    Placement p = placement(map, id);
                    sessionJson = p.sessionJson;
                    placementJson = p.json(managerName);
                } else {
                    sessionJson = sessionCopy(server, req.getContextPath(), id);
                    placementJson = new Placement(sessionJson == null ? "none" : "replica", null, Collections.<String>emptyList(), null)
                            .json(managerName);
                }
            }
        } catch (JMException | ReflectiveOperationException e) {
            resp.sendError(HttpServletResponse.SC_INTERNAL_SERVER_ERROR, "JMX: " + e);
            return;
        }
        if (channelMembers != null) {
            members = channelMembers;
        }
        b.append(",\"clustered\":").append(clustered);
        b.append(",\"localMember\":").append(local == null ? "null" : SessionServlet.jsonString(local));
        b.append(",\"members\":");
        jsonList(b, members);
        b.append(",\"localIncarnation\":").append(localIncarnation == null ? "null" : SessionServlet.jsonString(localIncarnation));
        b.append(",\"incarnations\":");
        jsonList(b, channelIncarnations != null ? channelIncarnations : heard);
        b.append(",\"heard\":");
        jsonList(b, heard);
        b.append(",\"manager\":").append(managerName == null ? "null" : SessionServlet.jsonString(managerName));
        if (req.getParameter("session") != null) {
            b.append(",\"session\":").append(sessionJson == null ? "null" : sessionJson);
            b.append(",\"placement\":").append(placementJson);
        }
        b.append("}\n");
        resp.setHeader("X-Node", node);
        resp.setHeader("Cache-Control", "no-store");
        resp.setCharacterEncoding("UTF-8");
        resp.setContentType("application/json");
        resp.getWriter().write(b.toString());
    }

    /** "host:port" the channel's Receiver listens on (its JMX bean), or null when there is none. */
    private static String receiverAddress(MBeanServer server) throws JMException {
        for (ObjectName name : server.queryNames(new ObjectName("*:type=Channel,component=Receiver,*"), null)) {
            Set<String> attributes = new TreeSet<>();
            for (javax.management.MBeanAttributeInfo a : server.getMBeanInfo(name).getAttributes()) {
                attributes.add(a.getName());
            }
            String hostAttribute = attributes.contains("Host") ? "Host" : attributes.contains("Address") ? "Address" : null;
            if (hostAttribute == null || !attributes.contains("Port")) {
                throw new javax.management.AttributeNotFoundException("the Receiver bean " + name + " has no Host/Address and Port: " + attributes);
            }
            Object host = server.getAttribute(name, hostAttribute);
            Object port = server.getAttribute(name, "Port");
            if (host != null && port != null) {
                return String.valueOf(host).replaceFirst("^[^/]*/", "") + ":" + port;
            }
        }
        return null;
    }

    /** A JSON array of strings, in the collection's order. */
    private static void jsonList(StringBuilder b, Collection<String> items) {
        b.append('[');
        boolean first = true;
        for (String item : items) {
            b.append(first ? "" : ",").append(SessionServlet.jsonString(item));
            first = false;
        }
        b.append(']');
    }

    /** Whether the context's Manager bean names a Manager that keeps its sessions in a replicated map. */
    private static boolean replicatedByName(MBeanServer server, String contextPath) throws JMException {
        String context = contextPath.isEmpty() ? "/" : contextPath;
        for (ObjectName manager : server.queryNames(new ObjectName("*:type=Manager,context=" + context + ",*"), null)) {
            if (String.valueOf(server.getAttribute(manager, "className")).endsWith(".BackupManager")) {
                return true;
            }
        }
        return false;
    }

    /**
     * The session Manager of the request's context (RequestFacade → connector Request → Context),
     * or null when the request is not Tomcat's own: webapps see Tomcat's classes but are compiled
     * against the servlet API only, so by name.
     */
    private static Object managerOf(HttpServletRequest req) throws ReflectiveOperationException {
        java.lang.reflect.Field field = declaredField(req.getClass(), "request");
        if (field == null) {
            return null;
        }
        field.setAccessible(true);
        Object request = field.get(req);
        Object context = request.getClass().getMethod("getContext").invoke(request);
        return context == null ? null : context.getClass().getMethod("getManager").invoke(context);
    }

    /** The field of that name declared by the class or a superclass, or null. */
    private static java.lang.reflect.Field declaredField(Class<?> type, String name) {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            try {
                return c.getDeclaredField(name);
            } catch (NoSuchFieldException e) {
                // up the hierarchy
            }
        }
        return null;
    }

    /**
     * The Manager's sessions when they live in a Tribes replicated map (BackupManager's
     * LazyReplicatedMap: ManagerBase.sessions, an AbstractReplicatedMap with getInternal), else null.
     */
    private static Object replicatedMap(Object manager) throws ReflectiveOperationException {
        java.lang.reflect.Field field = declaredField(manager.getClass(), "sessions");
        if (field == null) {
            return null;
        }
        field.setAccessible(true);
        Object sessions = field.get(manager);
        try {
            sessions.getClass().getMethod("getInternal", Object.class);
            return sessions;
        } catch (NoSuchMethodException e) {
            return null;
        }
    }

    /** This node's part in keeping one session, and its copy when it keeps one. */
    private static final class Placement {
        final String role;
        final String primary;
        final List<String> backups;
        final String sessionJson;

        Placement(String role, String primary, List<String> backups, String sessionJson) {
            this.role = role;
            this.primary = primary;
            this.backups = backups;
            this.sessionJson = sessionJson;
        }

        String json(String manager) {
            StringBuilder b = new StringBuilder(128);
            b.append("{\"manager\":").append(manager == null ? "null" : SessionServlet.jsonString(manager));
            b.append(",\"role\":").append(SessionServlet.jsonString(role));
            b.append(",\"primary\":").append(primary == null ? "null" : SessionServlet.jsonString(primary));
            b.append(",\"backups\":");
            jsonList(b, backups);
            return b.append('}').toString();
        }
    }

    /**
     * The map entry of session {@code id} as this node holds it (AbstractReplicatedMap.getInternal:
     * no retrieval, no change of primary, no message to the other nodes). A primary or backup entry
     * holds the session; a proxy entry only knows where it is (its value, if any, is stale).
     */
    private static Placement placement(Object map, String id) throws ReflectiveOperationException {
        Object entry = map.getClass().getMethod("getInternal", Object.class).invoke(map, id);
        if (entry == null) {
            return new Placement("none", null, Collections.<String>emptyList(), null);
        }
        Class<?> type = entry.getClass();
        String role = flag(entry, "isProxy") ? "proxy" : flag(entry, "isBackup") ? "backup" : flag(entry, "isCopy") ? "copy" : "primary";
        Object primary = type.getMethod("getPrimary").invoke(entry);
        List<String> backups = new ArrayList<>();
        Object nodes = type.getMethod("getBackupNodes").invoke(entry);
        if (nodes instanceof Object[]) {
            for (Object m : (Object[]) nodes) {
                backups.add(address(String.valueOf(m)));
            }
        }
        Object value = type.getMethod("getValue").invoke(entry);
        String copy = value == null || "proxy".equals(role) ? null : sessionJson(value);
        return new Placement(role, primary == null ? null : address(String.valueOf(primary)), backups, copy);
    }

    private static boolean flag(Object entry, String method) throws ReflectiveOperationException {
        return Boolean.TRUE.equals(entry.getClass().getMethod(method).invoke(entry));
    }

    /**
     * This node's copy of session {@code id} as JSON, or null when it holds none: the Manager's
     * findSession (JMX), then the session's HttpSession facade, whose getters do not access it.
     */
    private static String sessionCopy(MBeanServer server, String contextPath, String id)
            throws JMException, ReflectiveOperationException {
        String context = contextPath.isEmpty() ? "/" : contextPath;
        for (ObjectName manager : server.queryNames(new ObjectName("*:type=Manager,context=" + context + ",*"), null)) {
            Object found;
            try {
                found = server.invoke(manager, "findSession", new Object[] {id}, new String[] {String.class.getName()});
            } catch (javax.management.ReflectionException e) {
                // A Manager whose JMX descriptor lacks findSession (StandardManager): only whether it holds the id.
                String ids = String.valueOf(server.invoke(manager, "listSessionIds", new Object[0], new String[0]));
                return java.util.Arrays.asList(ids.split("\\s+")).contains(id)
                        ? "{\"sessionId\":" + SessionServlet.jsonString(id) + ",\"partial\":true,\"attributes\":{}}" : null;
            }
            return found == null ? null : sessionJson(found);
        }
        return null;
    }

    /**
     * A Catalina Session as JSON, through its HttpSession facade, whose getters do not access it;
     * null when it is no longer valid.
     */
    private static String sessionJson(Object catalinaSession) throws ReflectiveOperationException {
        HttpSession session = (HttpSession) catalinaSession.getClass().getMethod("getSession").invoke(catalinaSession);
        try {
            List<String> names = new ArrayList<>(Collections.list(session.getAttributeNames()));
            Collections.sort(names);
            StringBuilder b = new StringBuilder(128);
            b.append("{\"sessionId\":").append(SessionServlet.jsonString(session.getId()));
            b.append(",\"creationTime\":").append(session.getCreationTime());
            Object count = session.getAttribute(SessionServlet.COUNTER);
            b.append(",\"requestCount\":").append(count instanceof Integer ? count : "null");
            SessionServlet.appendAttributes(b, session, names);
            return b.append('}').toString();
        } catch (IllegalStateException e) {
            return null; // invalidated meanwhile
        }
    }
}
