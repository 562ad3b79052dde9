package io.github.rerankservice.client;

import io.github.rerankservice.rerank.v1.GetModelInfoResponse;
import io.github.rerankservice.rerank.v1.ModelInfo;
import io.github.rerankservice.rerank.v1.RerankRequest;
import io.github.rerankservice.rerank.v1.RerankResponse;
import io.github.rerankservice.rerank.v1.RerankResult;
import java.util.Optional;

/** Converts between this package's types and the rerank.v1 messages; the only place that does. */
final class ProtoMapping {
  private ProtoMapping() {}

  static RerankRequest toProto(RerankQuery query) {
    RerankRequest.Builder request =
        RerankRequest.newBuilder()
            .setQuery(query.query())
            .setTopN(query.topN())
            .setRawScores(query.rawScores())
            .setReturnText(query.returnText())
            .setMaxLength(query.maxLength())
            .setPrompt(query.prompt())
            .setModel(query.model());
    for (Document document : query.documents()) {
      request.addDocumentsBuilder().setId(document.id()).setText(document.text());
    }
    return request.build();
  }

  /** returnText says whether the texts were asked for: proto3 cannot tell "" from unset. */
  static Ranking fromProto(RerankResponse response, boolean returnText) {
    return new Ranking(
        response.getResultsList().stream().map(r -> fromProto(r, returnText)).toList(),
        response.getModel(),
        new Usage(
            response.getUsage().getPairs(),
            response.getUsage().getTokens(),
            response.getUsage().getCachedPairs()));
  }

  private static ScoredDocument fromProto(RerankResult result, boolean returnText) {
    return new ScoredDocument(
        result.getIndex(),
        result.getId(),
        result.getScore(),
        returnText ? Optional.of(result.getText()) : Optional.empty());
  }

  static ServerInfo fromProto(GetModelInfoResponse response) {
    return new ServerInfo(
        response.getModelsList().stream().map(ProtoMapping::fromProto).toList(),
        response.getDefaultModel(),
        fromProto(response.getLimits()));
  }

  private static Limits fromProto(io.github.rerankservice.rerank.v1.Limits limits) {
    return new Limits(
        limits.getMaxDocuments(),
        limits.getBatchSize(),
        limits.getMaxQueryChars(),
        limits.getMaxDocumentChars(),
        limits.getMaxPromptChars(),
        limits.getMaxRequestTokens(),
        limits.getMaxMessageBytes(),
        limits.getMaxQueuedPairs(),
        limits.getMaxBatchTokens());
  }

  private static ModelDescription fromProto(ModelInfo model) {
    return new ModelDescription(
        model.getName(),
        model.getSource(),
        model.getKind(),
        model.getDtype(),
        model.getDevice(),
        model.getDefaultMaxLength(),
        model.getMaxMaxLength(),
        model.getDefaultPrompt());
  }
}
