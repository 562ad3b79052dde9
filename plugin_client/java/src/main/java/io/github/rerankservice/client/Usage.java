package io.github.rerankservice.client;

/**
 * The work one rerank call cost.
 *
 * @param pairs (query, document) pairs scored
 * @param tokens tokens fed to the model, without padding
 * @param cachedPairs pairs answered from the server's score cache, which cost no tokens
 */
public record Usage(int pairs, long tokens, int cachedPairs) {}
