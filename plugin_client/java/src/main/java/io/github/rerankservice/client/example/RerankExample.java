package io.github.rerankservice.client.example;

import io.github.rerankservice.client.Ranking;
import io.github.rerankservice.client.RerankClient;
import io.github.rerankservice.client.RerankClientBuilder;
import io.github.rerankservice.client.RerankException;
import io.github.rerankservice.client.RerankQuery;
import io.github.rerankservice.client.ScoredDocument;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * Reranks a few passages and prints them best first.
 *
 * <pre>
 * mvn -q compile exec:java -Dexec.mainClass=io.github.rerankservice.client.example.RerankExample \
 *     -Dexec.args="127.0.0.1:50051 'what is a panda?' 'The giant panda is a bear.' 'Paris is in France.'"
 * </pre>
 *
 * <p>Arguments: target, query, documents (defaults for all). RERANK_API_KEY, when set, is sent as
 * a bearer token.
 */
public final class RerankExample {
  private RerankExample() {}

  public static void main(String[] args) {
    String target = args.length > 0 ? args[0] : "127.0.0.1:50051";
    String query = args.length > 1 ? args[1] : "what is a panda?";
    List<String> documents =
        args.length > 2
            ? Arrays.asList(args).subList(2, args.length)
            : List.of(
                "The giant panda is a bear species endemic to China.",
                "Paris is the capital of France.",
                "Pandas eat bamboo almost exclusively.");

    RerankClientBuilder builder = RerankClient.builder(target).defaultTimeout(Duration.ofSeconds(10));
    String apiKey = System.getenv("RERANK_API_KEY");
    if (apiKey != null && !apiKey.isEmpty()) {
      builder.apiKey(apiKey);
    }
    try (RerankClient client = builder.build()) {
      Ranking ranking = client.rerank(RerankQuery.of(query, documents));
      System.out.printf("model %s, %d pairs, %d tokens%n",
          ranking.model(), ranking.usage().pairs(), ranking.usage().tokens());
      for (ScoredDocument result : ranking.results()) {
        System.out.printf("%.4f  %s%n", result.score(), documents.get(result.index()));
      }
    } catch (RerankException e) {
      System.err.println(e.getMessage());
      System.exit(1);
    }
  }
}
