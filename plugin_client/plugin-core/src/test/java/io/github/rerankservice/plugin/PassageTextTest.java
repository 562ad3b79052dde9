package io.github.rerankservice.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A hit's passage: the rule of rerank_client.merge.passage_text (see also PassageTextParityTest). */
class PassageTextTest {
  private static final int NO_CUT = 2000;

  private static String passage(Map<String, ?> source, String... fields) {
    return PassageText.of(source, List.of(fields), NO_CUT);
  }

  @Test
  void fieldsAreJoinedByNewlinesInTheOrderNamed() {
    Map<String, Object> source = Map.of("title", "Pandas", "body", "eat bamboo");

    assertEquals("Pandas\neat bamboo", passage(source, "title", "body"));
    assertEquals("eat bamboo\nPandas", passage(source, "body", "title"));
  }

  @Test
  void dottedNameReachesIntoObjects() {
    Map<String, Object> source = Map.of("meta", Map.of("author", Map.of("name", "Kim")));

    assertEquals("Kim", passage(source, "meta.author.name"));
  }

  @Test
  void dottedNameReachesIntoEveryObjectOfAList() {
    Map<String, Object> source = Map.of("sections",
        List.of(Map.of("text", "one"), Map.of("other", "skipped"), Map.of("text", "two")));

    assertEquals("one\ntwo", passage(source, "sections.text"));
  }

  @Test
  void dottedNameReachesThroughNestedListsOfObjects() {
    Map<String, Object> source = Map.of("a", List.of(
        Map.of("b", List.of(Map.of("c", "x"), Map.of("c", "y"))),
        Map.of("b", Map.of("c", "z"))));

    assertEquals("x\ny\nz", passage(source, "a.b.c"));
  }

  @Test
  void listValuesAreJoinedByNewlines() {
    assertEquals("a\nb\nc", passage(Map.of("tags", List.of("a", "b", "c")), "tags"));
  }

  @Test
  void emptyStringsInsideAListAreKept() {
    assertEquals("\na\n", passage(Map.of("tags", List.of("", "a", "")), "tags"));
  }

  @Test
  void missingNullAndEmptyFieldsAreSkipped() {
    Map<String, Object> source = new HashMap<>();
    source.put("title", "");
    source.put("body", null);
    source.put("tags", List.of());
    source.put("summary", "kept");

    assertEquals("kept", passage(source, "title", "body", "tags", "absent", "summary"));
  }

  @Test
  void whitespaceOnlyFieldIsNotEmpty() {
    assertEquals("  ", passage(Map.of("title", "  "), "title"));
  }

  @Test
  void pathThroughAScalarIsMissing() {
    assertNull(PassageText.fieldText(Map.of("title", "t"), "title.sub"));
  }

  @Test
  void literalDottedKeyIsNotReached() {
    assertNull(PassageText.fieldText(Map.of("a.b", "x"), "a.b"));
  }

  @Test
  void fieldTextIsNullForMissingNullAndEmptyList() {
    Map<String, Object> source = new HashMap<>();
    source.put("body", null);
    source.put("tags", List.of());

    assertNull(PassageText.fieldText(source, "absent"));
    assertNull(PassageText.fieldText(source, "body"));
    assertNull(PassageText.fieldText(source, "tags"));
  }

  @Test
  void nullSourceGivesAnEmptyPassage() {
    assertEquals("", PassageText.of(null, List.of("title"), NO_CUT));
  }

  @Test
  void integersPrintAsPythonStrDoes() {
    Map<String, Object> source = Map.of("year", 2024, "n", -7, "zero", 0, "big", 9007199254740993L);

    assertEquals("2024\n-7\n0\n9007199254740993", passage(source, "year", "n", "zero", "big"));
  }

  @Test
  void booleansPrintAsPythonTrueAndFalse() {
    assertEquals("True\nFalse", passage(Map.of("flag", true, "off", false), "flag", "off"));
    assertEquals("x\n1\nTrue", passage(Map.of("mixed", List.of("x", 1, true)), "mixed"));
  }

  @Test
  void nonAsciiTextIsKeptAsIs() {
    Map<String, Object> source = Map.of("title", "판다는 곰이다", "body", "Café naïve — “quotes”");

    assertEquals("판다는 곰이다\nCafé naïve — “quotes”", passage(source, "title", "body"));
  }

  @Test
  void passageIsCutToMaxChars() {
    assertEquals("abcde", PassageText.of(Map.of("title", "abcdefgh"), List.of("title"), 5));
  }

  @Test
  void passageAtExactlyMaxCharsIsNotCut() {
    assertEquals("abcde", PassageText.of(Map.of("title", "abcde"), List.of("title"), 5));
  }

  @Test
  void cutCountsTheNewlinesBetweenFields() {
    assertEquals("abc\n", PassageText.of(Map.of("title", "abc", "body", "def"), List.of("title", "body"), 4));
  }

  @Test
  void cutCountsCodePointsNotUtf16Units() {
    String emoji = "😀😃😄😁"; // 4 code points, 8 UTF-16 units

    assertEquals("😀😃😄", PassageText.of(Map.of("title", emoji), List.of("title"), 3));
    assertEquals(emoji, PassageText.of(Map.of("title", emoji), List.of("title"), 4));
  }

  @Test
  void cutNeverSplitsASurrogatePair() {
    String cut = PassageText.of(Map.of("title", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢"), List.of("title"), 2);

    assertEquals("𝔘𝔫", cut);
    assertEquals(4, cut.length());
    assertFalse(Character.isHighSurrogate(cut.charAt(cut.length() - 1)));
  }

  @Test
  void cutCountsACombiningMarkAsItsOwnCodePoint() {
    assertEquals("e", PassageText.of(Map.of("title", "e\u0301te"), List.of("title"), 1));
  }

  @Test
  void cutOfNonAsciiTextCountsCharactersNotBytes() {
    assertEquals("판다는", PassageText.of(Map.of("title", "판다는 곰이다"), List.of("title"), 3));
  }

  @Test
  void optionsPassageUsesItsFieldsAndMaxChars() {
    RerankOptions options = RerankOptions.parse(
        Map.of("document_fields", Arrays.asList("title", "body"), "max_passage_chars", 8),
        RerankOptions.Usage.RESPONSE_PROCESSOR);

    assertEquals("Pandas\ne", options.passage(Map.of("title", "Pandas", "body", "eat bamboo")));
  }
}
