package io.github.rerankservice.client;

/**
 * One model the server serves.
 *
 * @param name what {@link RerankQuery.Builder#model(String)} selects
 * @param source the Hugging Face id or local directory the model was loaded from
 * @param kind the scoring method, for example {@code llm-yes-logit}
 * @param dtype the compute dtype, for example {@code bfloat16}
 * @param device where the model runs, for example {@code cuda:0} or {@code cpu}
 * @param defaultMaxLength the token budget used when a query leaves maxLength at 0
 * @param maxMaxLength the largest maxLength a query may ask for
 * @param defaultPrompt the instruction used when a query leaves prompt empty
 */
public record ModelDescription(
    String name,
    String source,
    String kind,
    String dtype,
    String device,
    int defaultMaxLength,
    int maxMaxLength,
    String defaultPrompt) {}
