/*
 * Starts one OpenSearch node inside this JVM for local development, tests and benchmarks
 * (scripts/opensearch.sh). The node is built from the Maven Central jars of OpenSearch and its
 * modules, with the modules passed to Node as classpath plugins (what the OpenSearch
 * distribution's plugin loader would otherwise find in its modules/ folder); the OpenSearch test
 * framework stays off the classpath.
 *
 * Single node, security off, loopback only: settings come from system properties that the
 * script sets (archive.home, archive.http.port, archive.transport.port, archive.cluster).
 */
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.painless.PainlessPlugin;
import org.opensearch.transport.Netty4Plugin;

public final class ArchiveSearchNode extends Node {
  private ArchiveSearchNode(Environment env) {
    // netty4: the HTTP and transport layers; analysis-common: the whitespace analyzer's
    // companions; painless: the scripted similarity that ranks without collection statistics.
    super(env, List.of(Netty4Plugin.class, CommonAnalysisPlugin.class, PainlessPlugin.class), true);
  }

  private static String prop(String name) {
    String v = System.getProperty(name);
    if (v == null || v.isEmpty()) throw new IllegalArgumentException("missing -D" + name);
    return v;
  }

  public static void main(String[] args) throws Exception {
    String home = prop("archive.home");
    Settings settings = Settings.builder()
        .put("path.home", home)
        .put("path.data", Path.of(home, "data").toString())
        .put("path.logs", Path.of(home, "logs").toString())
        .put("cluster.name", System.getProperty("archive.cluster", "archive-local"))
        .put("node.name", "archive-local-node")
        .put("discovery.type", "single-node")
        .put("network.host", "127.0.0.1")
        .put("http.port", prop("archive.http.port"))
        .put("transport.port", prop("archive.transport.port"))
        .put("http.type", "netty4")
        .put("transport.type", "netty4")
        // A developer's disk may be nearly full; a test node must not turn its indices read-only.
        .put("cluster.routing.allocation.disk.threshold_enabled", false)
        // Indices are created by the application with their mappings, never implicitly.
        .put("action.auto_create_index", false)
        .build();
    LogConfigurator.registerErrorListener();
    LogConfigurator.configureWithoutConfig(settings);
    Environment env = InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), null, () -> "archive-local-node");
    ArchiveSearchNode node = new ArchiveSearchNode(env);
    CountDownLatch closed = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        node.close();
        node.awaitClose(20, TimeUnit.SECONDS);
      } catch (Exception e) {
        e.printStackTrace();
      }
      closed.countDown();
    }));
    node.start();
    System.out.println("archive-search-node started on 127.0.0.1:" + prop("archive.http.port"));
    closed.await();
  }
}
