package io.github.rerankservice.client;

import java.util.List;
import java.util.Objects;

/**
 * What the server serves and its bounds on a request.
 *
 * @param models the served models (only the asked one when a model was named)
 * @param defaultModel the model used when a query names none
 * @param limits the server's bounds on a request
 */
public record ServerInfo(List<ModelDescription> models, String defaultModel, Limits limits) {
  public ServerInfo {
    models = List.copyOf(models);
    Objects.requireNonNull(defaultModel, "defaultModel");
    Objects.requireNonNull(limits, "limits");
  }
}
