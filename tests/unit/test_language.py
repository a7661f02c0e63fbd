"""A document's language: the declared one unless the detector (py3langid, on the clean text) is
confident of another that it finds the declared one implausible for; detected alone when nothing is
declared; None when there is neither a declaration nor enough text."""

from __future__ import annotations

from pipeline.clean.language import choose_language, detect
from pipeline.records import PageMeta

ENGLISH = (
    "The council agreed on Tuesday to reopen the library on Saturdays from next month, after a "
    "petition signed by more than two thousand residents asked for longer opening hours."
)
GERMAN = (
    "Der Gemeinderat hat am Dienstag beschlossen, die Bibliothek ab dem nächsten Monat auch samstags "
    "zu öffnen, nachdem mehr als zweitausend Einwohner eine Petition für längere Öffnungszeiten "
    "unterschrieben hatten."
)
FRENCH = (
    "Le conseil municipal a décidé mardi de rouvrir la bibliothèque le samedi à partir du mois "
    "prochain, après une pétition signée par plus de deux mille habitants."
)
NORWEGIAN = (
    "Kommunestyret vedtok tirsdag å åpne biblioteket på lørdager fra neste måned, etter at mer enn "
    "to tusen innbyggere hadde skrevet under på et opprop om lengre åpningstider."
)


def declared(code: str, source: str = "html-lang") -> PageMeta:
    return PageMeta(declared_language=code, declared_language_source=source)


def test_a_declaration_the_text_agrees_with_stands():
    assert choose_language(declared("en"), ENGLISH) == ("en", "html-lang")
    assert choose_language(declared("fr", "json-ld"), FRENCH) == ("fr", "json-ld")


def test_a_template_declaring_the_wrong_language_loses_to_a_confident_detection():
    assert choose_language(declared("en"), GERMAN) == ("de", "langid")


def test_a_declared_close_language_settles_what_the_detector_mixes_up():
    probs = detect(NORWEGIAN)
    assert max(probs, key=probs.__getitem__) in {"no", "nb", "nn", "da"}
    assert choose_language(declared("nb"), NORWEGIAN) == ("nb", "html-lang")


def test_without_a_declaration_the_text_decides_if_there_is_enough_of_it():
    assert choose_language(PageMeta(), FRENCH) == ("fr", "langid")
    assert detect("Read more") == {}
    assert choose_language(PageMeta(), "Read more · 12 comments") == (None, None)
    assert choose_language(declared("es"), "OK") == ("es", "html-lang")  # too short to argue with


def _model_read() -> int:
    from pipeline.clean import language

    return language._identifier.cache_info().currsize


def test_workers_inherit_the_model_their_fork_server_read():
    import multiprocessing

    from pipeline.forkserver import start_fork_server

    start_fork_server()
    with multiprocessing.get_context("forkserver").Pool(1) as pool:
        assert pool.apply(_model_read) == 1  # read before the worker was forked, not by it
