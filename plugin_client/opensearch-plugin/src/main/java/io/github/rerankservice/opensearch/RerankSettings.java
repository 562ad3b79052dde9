package io.github.rerankservice.opensearch;

import io.github.rerankservice.plugin.ChannelSettings;
import io.github.rerankservice.plugin.NodeSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.opensearch.common.settings.SecureSetting;
import org.opensearch.common.settings.Setting;
import org.opensearch.common.settings.Setting.Property;
import org.opensearch.common.settings.Settings;
import org.opensearch.common.unit.TimeValue;
import org.opensearch.core.common.settings.SecureString;

/**
 * The node settings of the plugin ({@link NodeSettings} names them and owns their rules), in
 * OpenSearch's settings API. All but the API key are dynamic (cluster settings API); the API key
 * is a secure setting in the OpenSearch keystore, re-read by {@code POST
 * _nodes/reload_secure_settings}. Paths are relative to the node's config directory.
 */
final class RerankSettings {
  static final Setting<String> TARGET_SETTING = Setting.simpleString(NodeSettings.TARGET, "",
      NodeSettings::checkTarget, Property.NodeScope, Property.Dynamic);
  static final Setting<TimeValue> TIMEOUT = Setting.positiveTimeSetting(NodeSettings.TIMEOUT,
      TimeValue.timeValueMillis(NodeSettings.DEFAULT_TIMEOUT.toMillis()), Property.NodeScope, Property.Dynamic);
  static final Setting<Boolean> FAIL_OPEN = Setting.boolSetting(NodeSettings.FAIL_OPEN, true,
      Property.NodeScope, Property.Dynamic);
  static final Setting<Boolean> TLS_ENABLED = Setting.boolSetting(NodeSettings.TLS_ENABLED, false,
      Property.NodeScope, Property.Dynamic);
  static final Setting<String> TLS_CA = Setting.simpleString(NodeSettings.TLS_CA, Property.NodeScope, Property.Dynamic);
  static final Setting<String> TLS_CERTIFICATE = Setting.simpleString(NodeSettings.TLS_CERTIFICATE,
      Property.NodeScope, Property.Dynamic);
  static final Setting<String> TLS_KEY = Setting.simpleString(NodeSettings.TLS_KEY, Property.NodeScope, Property.Dynamic);
  static final Setting<String> TLS_SERVER_NAME = Setting.simpleString(NodeSettings.TLS_SERVER_NAME,
      Property.NodeScope, Property.Dynamic);
  static final Setting<SecureString> API_KEY = SecureSetting.secureString(NodeSettings.API_KEY, null);
  static final Setting<String> MODEL = Setting.simpleString(NodeSettings.MODEL, Property.NodeScope, Property.Dynamic);
  static final Setting<Integer> MAX_WINDOW_SIZE = Setting.intSetting(NodeSettings.MAX_WINDOW_SIZE,
      NodeSettings.DEFAULT_MAX_WINDOW_SIZE, 1, Property.NodeScope, Property.Dynamic);

  /** The dynamic settings; a change to any of them re-reads them all. */
  static final List<Setting<?>> DYNAMIC = List.of(TARGET_SETTING, TIMEOUT, FAIL_OPEN, TLS_ENABLED, TLS_CA,
      TLS_CERTIFICATE, TLS_KEY, TLS_SERVER_NAME, MODEL, MAX_WINDOW_SIZE);

  private RerankSettings() {}

  static List<Setting<?>> all() {
    return Stream.concat(DYNAMIC.stream(), Stream.of(API_KEY)).toList();
  }

  /**
   * The connection {@code settings} describe, with {@code apiKey} from the keystore.
   *
   * @throws IllegalArgumentException naming the setting to fix
   */
  static ChannelSettings channelSettings(Settings settings, Path configDir, String apiKey) {
    NodeSettings.Values values = new NodeSettings.Values(
        TARGET_SETTING.get(settings),
        Duration.ofMillis(TIMEOUT.get(settings).millis()),
        FAIL_OPEN.get(settings),
        TLS_ENABLED.get(settings),
        TLS_CA.get(settings),
        TLS_CERTIFICATE.get(settings),
        TLS_KEY.get(settings),
        TLS_SERVER_NAME.get(settings),
        MODEL.get(settings),
        MAX_WINDOW_SIZE.get(settings));
    return NodeSettings.channelSettings(values, configDir, apiKey);
  }

  /** The API key in the keystore {@code settings} hold, or null. */
  static String apiKey(Settings settings) {
    if (!API_KEY.exists(settings)) {
      return null;
    }
    try (SecureString key = API_KEY.get(settings)) {
      return key.toString();
    }
  }
}
