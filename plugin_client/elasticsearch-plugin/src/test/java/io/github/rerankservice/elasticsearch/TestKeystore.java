package io.github.rerankservice.elasticsearch;

import java.io.InputStream;
import java.util.Map;
import java.util.Set;
import org.elasticsearch.common.io.stream.StreamOutput;
import org.elasticsearch.common.settings.SecureSettings;
import org.elasticsearch.common.settings.SecureString;

/** A keystore in memory (Elasticsearch's MockSecureSettings is in its test framework, not here). */
record TestKeystore(Map<String, String> values) implements SecureSettings {
  @Override
  public boolean isLoaded() {
    return true;
  }

  @Override
  public Set<String> getSettingNames() {
    return values.keySet();
  }

  @Override
  public SecureString getString(String setting) {
    return new SecureString(values.get(setting).toCharArray());
  }

  @Override
  public InputStream getFile(String setting) {
    throw new UnsupportedOperationException();
  }

  @Override
  public byte[] getSHA256Digest(String setting) {
    throw new UnsupportedOperationException();
  }

  @Override
  public void writeTo(StreamOutput out) {
    throw new UnsupportedOperationException();
  }

  @Override
  public void close() {}
}
