package io.github.rerankservice.client;

/**
 * The server's bounds on a request; a request past one is INVALID_ARGUMENT, and a full queue
 * RESOURCE_EXHAUSTED.
 *
 * @param maxDocuments the most documents in one query
 * @param batchSize the most pairs in one forward pass
 * @param maxQueryChars the longest query, in characters
 * @param maxDocumentChars the longest document text, in characters
 * @param maxPromptChars the longest custom prompt, in characters
 * @param maxRequestTokens the most tokens one request may feed the model
 * @param maxMessageBytes the largest request message the server accepts
 * @param maxQueuedPairs how many pairs may wait per model before RESOURCE_EXHAUSTED
 * @param maxBatchTokens the most padded tokens in one forward pass
 */
public record Limits(
    int maxDocuments,
    int batchSize,
    int maxQueryChars,
    int maxDocumentChars,
    int maxPromptChars,
    long maxRequestTokens,
    long maxMessageBytes,
    int maxQueuedPairs,
    int maxBatchTokens) {}
