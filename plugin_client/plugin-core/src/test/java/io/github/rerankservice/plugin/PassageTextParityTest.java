package io.github.rerankservice.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.ToNumberPolicy;
import com.google.gson.reflect.TypeToken;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * tests/data/passage_cases.json: the passages the Python library ({@code
 * rerank_client.merge.passage_text}) builds, checked here against {@link PassageText} and in
 * tests/unit/test_passage_cases.py against Python, so either side drifting fails.
 */
class PassageTextParityTest {
  private static final Path CASES = Path.of("../../tests/data/passage_cases.json");

  /** One case of the fixture, as JSON reads: integers as Long, as an engine's _source holds them. */
  record PassageCase(Map<String, Object> source, List<String> fields, int maxChars, String passage) {}

  static List<PassageCase> cases() throws IOException {
    // Gson (on the test classpath through grpc-core) reads integers as Long, not as Double.
    Gson gson = new GsonBuilder().setObjectToNumberStrategy(ToNumberPolicy.LONG_OR_DOUBLE).create();
    try (Reader reader = Files.newBufferedReader(CASES, StandardCharsets.UTF_8)) {
      List<Map<String, Object>> raw = gson.fromJson(reader, new TypeToken<List<Map<String, Object>>>() {}.getType());
      return raw.stream().map(PassageTextParityTest::toCase).toList();
    }
  }

  @SuppressWarnings("unchecked")
  private static PassageCase toCase(Map<String, Object> raw) {
    return new PassageCase((Map<String, Object>) raw.get("source"), (List<String>) raw.get("fields"),
        ((Number) raw.get("max_chars")).intValue(), (String) raw.get("passage"));
  }

  static Stream<Arguments> numberedCases() throws IOException {
    List<PassageCase> cases = cases();
    return IntStream.range(0, cases.size())
        .mapToObj(i -> Arguments.of(i + ": " + String.join(",", cases.get(i).fields()), cases.get(i)));
  }

  @Test
  void fixtureIsThereAndHoldsCases() throws IOException {
    assertFalse(cases().isEmpty(), "no cases in " + CASES.toAbsolutePath());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("numberedCases")
  void javaPassageEqualsThePythonPassage(String name, PassageCase passageCase) {
    assertEquals(passageCase.passage(),
        PassageText.of(passageCase.source(), passageCase.fields(), passageCase.maxChars()),
        "source " + passageCase.source());
  }
}
