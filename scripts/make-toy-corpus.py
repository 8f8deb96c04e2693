#!/usr/bin/env python3
"""Generates Fixtures/toy: a small synthetic English-German parallel corpus for a short
architecture search that needs no downloaded data.

The sentences come from a template grammar with real German morphology, so a model has to
learn more than a word-for-word mapping:

- articles and determiners by gender, number and case (der/die/das/den/dem, ein/einen/einem,
  mein, dieser, kein), weak nouns (den Jungen), dative plurals (den Kindern);
- adjective endings after definite, indefinite and no article (der große Hund, ein großer
  Hund, große Hunde);
- verb conjugation for ich / er, sie, es / wir, sie, with stem-vowel changes (sieht, liest)
  and separable prefixes (ruft ... an);
- prepositions with the dative or the accusative, location against direction (im Garten,
  in den Garten) and their contractions (im, ins, am, zum, zur, vom);
- word order unlike English: verb second after a fronted adverb (Heute liest der Mann ...),
  the verb bracket of the perfect and of modals (hat ... gesehen, will ... spielen), verb-last
  subordinate clauses after "weil", "dass" and "wenn", verb-first questions, negation with
  "nicht" or "kein".

Deterministic: the same seed gives the same files byte for byte. Python 3 standard library only.

    python3 scripts/make-toy-corpus.py [--out Fixtures/toy] [--seed 1]
"""
import argparse
import random
from dataclasses import dataclass, field
from pathlib import Path

SPLITS = [("train", 3000), ("val", 200), ("test", 200)]
MIN_WORDS, MAX_WORDS = 4, 14
NOM, ACC, DAT = 0, 1, 2

# MARK: - Lexicon


@dataclass(frozen=True)
class Noun:
    en: str
    en_plural: str
    de: str
    de_plural: str
    gender: str  # "m", "f", "n"
    tags: frozenset
    weak: str = ""  # weak masculine nouns: the singular outside the nominative (den Jungen)


def nouns(tags, rows):
    return [Noun(r[0], r[1], r[2], r[3], r[4], frozenset(tags.split()), r[5] if len(r) > 5 else "") for r in rows]


PEOPLE = nouns("person", [
    ("man", "men", "Mann", "Männer", "m"), ("woman", "women", "Frau", "Frauen", "f"),
    ("child", "children", "Kind", "Kinder", "n"), ("boy", "boys", "Junge", "Jungen", "m", "Jungen"),
    ("girl", "girls", "Mädchen", "Mädchen", "n"), ("teacher", "teachers", "Lehrer", "Lehrer", "m"),
    ("doctor", "doctors", "Arzt", "Ärzte", "m"), ("student", "students", "Student", "Studenten", "m", "Studenten"),
    ("farmer", "farmers", "Bauer", "Bauern", "m", "Bauern"), ("cook", "cooks", "Koch", "Köche", "m"),
    ("friend", "friends", "Freund", "Freunde", "m"), ("grandmother", "grandmothers", "Großmutter", "Großmütter", "f"),
    ("grandfather", "grandfathers", "Großvater", "Großväter", "m"), ("brother", "brothers", "Bruder", "Brüder", "m"),
    ("sister", "sisters", "Schwester", "Schwestern", "f"), ("baker", "bakers", "Bäcker", "Bäcker", "m"),
    ("neighbour", "neighbours", "Nachbar", "Nachbarn", "m", "Nachbarn"), ("king", "kings", "König", "Könige", "m"),
    ("queen", "queens", "Königin", "Königinnen", "f"), ("musician", "musicians", "Musiker", "Musiker", "m"),
    ("mother", "mothers", "Mutter", "Mütter", "f"), ("father", "fathers", "Vater", "Väter", "m"),
    ("tourist", "tourists", "Tourist", "Touristen", "m", "Touristen"), ("baby", "babies", "Baby", "Babys", "n"),
])
ANIMALS = nouns("animal", [
    ("dog", "dogs", "Hund", "Hunde", "m"), ("cat", "cats", "Katze", "Katzen", "f"),
    ("horse", "horses", "Pferd", "Pferde", "n"), ("cow", "cows", "Kuh", "Kühe", "f"),
    ("mouse", "mice", "Maus", "Mäuse", "f"), ("fish", "fish", "Fisch", "Fische", "m"),
    ("lion", "lions", "Löwe", "Löwen", "m", "Löwen"), ("bear", "bears", "Bär", "Bären", "m", "Bären"),
    ("monkey", "monkeys", "Affe", "Affen", "m", "Affen"), ("elephant", "elephants", "Elefant", "Elefanten", "m", "Elefanten"),
    ("rabbit", "rabbits", "Hase", "Hasen", "m", "Hasen"), ("sheep", "sheep", "Schaf", "Schafe", "n"),
    ("pig", "pigs", "Schwein", "Schweine", "n"), ("goat", "goats", "Ziege", "Ziegen", "f"),
    ("fox", "foxes", "Fuchs", "Füchse", "m"), ("wolf", "wolves", "Wolf", "Wölfe", "m"),
    ("frog", "frogs", "Frosch", "Frösche", "m"), ("chicken", "chickens", "Huhn", "Hühner", "n"),
    ("donkey", "donkeys", "Esel", "Esel", "m"), ("snake", "snakes", "Schlange", "Schlangen", "f"),
]) + nouns("animal bird", [
    ("bird", "birds", "Vogel", "Vögel", "m"), ("duck", "ducks", "Ente", "Enten", "f"),
    ("owl", "owls", "Eule", "Eulen", "f"),
])
THINGS = nouns("thing portable", [
    ("book", "books", "Buch", "Bücher", "n"), ("ball", "balls", "Ball", "Bälle", "m"),
    ("letter", "letters", "Brief", "Briefe", "m"), ("cup", "cups", "Tasse", "Tassen", "f"),
    ("hat", "hats", "Hut", "Hüte", "m"), ("bag", "bags", "Tasche", "Taschen", "f"),
    ("key", "keys", "Schlüssel", "Schlüssel", "m"), ("picture", "pictures", "Bild", "Bilder", "n"),
    ("flower", "flowers", "Blume", "Blumen", "f"), ("lamp", "lamps", "Lampe", "Lampen", "f"),
    ("newspaper", "newspapers", "Zeitung", "Zeitungen", "f"), ("bottle", "bottles", "Flasche", "Flaschen", "f"),
    ("box", "boxes", "Kiste", "Kisten", "f"), ("shoe", "shoes", "Schuh", "Schuhe", "m"),
    ("jacket", "jackets", "Jacke", "Jacken", "f"), ("pen", "pens", "Stift", "Stifte", "m"),
    ("umbrella", "umbrellas", "Regenschirm", "Regenschirme", "m"), ("toy", "toys", "Spielzeug", "Spielzeuge", "n"),
    ("clock", "clocks", "Uhr", "Uhren", "f"), ("map", "maps", "Karte", "Karten", "f"),
    ("stone", "stones", "Stein", "Steine", "m"), ("chair", "chairs", "Stuhl", "Stühle", "m"),
]) + nouns("thing", [
    ("car", "cars", "Auto", "Autos", "n"), ("bicycle", "bicycles", "Fahrrad", "Fahrräder", "n"),
    ("table", "tables", "Tisch", "Tische", "m"), ("boat", "boats", "Boot", "Boote", "n"),
    ("door", "doors", "Tür", "Türen", "f"), ("window", "windows", "Fenster", "Fenster", "n"),
    ("bed", "beds", "Bett", "Betten", "n"), ("tree", "trees", "Baum", "Bäume", "m"),
    ("bus", "buses", "Bus", "Busse", "m"), ("train", "trains", "Zug", "Züge", "m"),
]) + nouns("song", [("song", "songs", "Lied", "Lieder", "n")]) + nouns("thing portable food", [
    ("apple", "apples", "Apfel", "Äpfel", "m"), ("cake", "cakes", "Kuchen", "Kuchen", "m"),
    ("egg", "eggs", "Ei", "Eier", "n"), ("banana", "bananas", "Banane", "Bananen", "f"),
    ("carrot", "carrots", "Karotte", "Karotten", "f"), ("pear", "pears", "Birne", "Birnen", "f"),
    ("sausage", "sausages", "Wurst", "Würste", "f"), ("cookie", "cookies", "Keks", "Kekse", "m"),
    ("potato", "potatoes", "Kartoffel", "Kartoffeln", "f"), ("tomato", "tomatoes", "Tomate", "Tomaten", "f"),
    ("pizza", "pizzas", "Pizza", "Pizzas", "f"),
])
ALL_NOUNS = PEOPLE + ANIMALS + THINGS
BY_NAME = {n.en: n for n in ALL_NOUNS}


@dataclass(frozen=True)
class Place:
    """A place with its own prepositions: where something is (English, German + dative) and
    where something goes (German preposition and case), as German speakers choose them."""
    noun: Noun
    en_at: str
    de_at: str
    de_to: str
    to_case: int
    paths: frozenset = frozenset()  # "through", "out of", "across"


def place(en, de, de_plural, gender, en_at, de_at, de_to, to_case, paths=""):
    return Place(Noun(en, en + "s", de, de_plural, gender, frozenset({"place"})), en_at, de_at, de_to, to_case,
                 frozenset(p.replace("_", " ") for p in paths.split()))


PLACES = [
    place("garden", "Garten", "Gärten", "m", "in", "in", "in", ACC, "through out_of"),
    place("park", "Park", "Parks", "m", "in", "in", "in", ACC, "through"),
    place("forest", "Wald", "Wälder", "m", "in", "in", "in", ACC, "through out_of"),
    place("kitchen", "Küche", "Küchen", "f", "in", "in", "in", ACC, "out_of"),
    place("school", "Schule", "Schulen", "f", "at", "in", "zu", DAT, "out_of"),
    place("city", "Stadt", "Städte", "f", "in", "in", "in", ACC, "through"),
    place("street", "Straße", "Straßen", "f", "on", "auf", "auf", ACC, "across"),
    place("house", "Haus", "Häuser", "n", "in", "in", "in", ACC, "out_of"),
    place("room", "Zimmer", "Zimmer", "n", "in", "in", "in", ACC, "out_of"),
    place("village", "Dorf", "Dörfer", "n", "in", "in", "in", ACC, "through out_of"),
    place("restaurant", "Restaurant", "Restaurants", "n", "in", "in", "in", ACC, "out_of"),
    place("station", "Bahnhof", "Bahnhöfe", "m", "at", "an", "zu", DAT, "out_of"),
    place("market", "Markt", "Märkte", "m", "at", "auf", "zu", DAT, "across"),
    place("beach", "Strand", "Strände", "m", "on", "an", "an", ACC, ""),
    place("lake", "See", "Seen", "m", "at", "an", "an", ACC, ""),
    place("river", "Fluss", "Flüsse", "m", "at", "an", "an", ACC, "across"),
    place("cinema", "Kino", "Kinos", "n", "at", "in", "in", ACC, "out_of"),
    place("office", "Büro", "Büros", "n", "in", "in", "in", ACC, "out_of"),
    place("library", "Bibliothek", "Bibliotheken", "f", "in", "in", "in", ACC, "out_of"),
    place("farm", "Bauernhof", "Bauernhöfe", "m", "on", "auf", "auf", ACC, ""),
    place("zoo", "Zoo", "Zoos", "m", "at", "in", "in", ACC, "through"),
    place("bridge", "Brücke", "Brücken", "f", "on", "auf", "zu", DAT, "across"),
    place("hospital", "Krankenhaus", "Krankenhäuser", "n", "in", "in", "in", ACC, "out_of"),
    place("mountain", "Berg", "Berge", "m", "on", "auf", "auf", ACC, ""),
]
OWNED_PLACES = {"garden", "house", "room", "kitchen", "office", "farm", "village", "city"}
WATER = [p for p in PLACES if p.noun.en in ("lake", "river")]
# Spatial prepositions that take the dative for a location, with the nouns they suit.
SPATIAL = [("under", "unter"), ("next to", "neben"), ("behind", "hinter"), ("in front of", "vor"), ("on", "auf")]
LANDMARKS = [BY_NAME[n] for n in ("table", "tree", "car", "bed", "chair", "door", "window", "bus")]
SURFACES = [BY_NAME[n] for n in ("table", "bed", "chair")]

# (English, German, tags): "colour size" suit anything, "mood" only people and animals.
ADJECTIVES = [
    ("big", "groß", "any"), ("small", "klein", "any"), ("old", "alt", "any"), ("young", "jung", "animate"),
    ("red", "rot", "colour"), ("blue", "blau", "colour"), ("green", "grün", "colour"), ("yellow", "gelb", "colour"),
    ("black", "schwarz", "colour"), ("white", "weiß", "colour"), ("brown", "braun", "colour"), ("grey", "grau", "colour"),
    ("tired", "müde", "animate"), ("happy", "glücklich", "animate"), ("hungry", "hungrig", "animate"),
    ("beautiful", "schön", "any"), ("new", "neu", "thing"), ("funny", "lustig", "animate"), ("friendly", "freundlich", "animate"),
    ("loud", "laut", "animate"), ("quiet", "leise", "animate"), ("fast", "schnell", "animate"), ("clever", "klug", "animate"),
    ("strong", "stark", "animate"), ("sick", "krank", "animate"), ("sad", "traurig", "animate"), ("lazy", "faul", "animate"),
    ("brave", "mutig", "animate"), ("dirty", "schmutzig", "thing"), ("clean", "sauber", "thing"),
    ("heavy", "schwer", "thing"), ("cheap", "billig", "thing"), ("wet", "nass", "any"), ("cold", "kalt", "thing"),
]


COLOURS = [a for a in ADJECTIVES if a[2] == "colour"]
PLACE_ADJECTIVES = [a for a in ADJECTIVES if a[0] in ("big", "small", "old", "new", "beautiful")]


def nouns_with(tags):
    """Nouns carrying one of `tags`, or named by one (English singular)."""
    wanted = set(tags.split())
    return [n for n in ALL_NOUNS if n.tags & wanted or n.en in wanted]


def adjectives_for(noun):
    animate = bool(noun.tags & {"person", "animal"})
    kinds = {"any", "animate"} if animate else {"any", "thing"}
    if "person" not in noun.tags:
        kinds.add("colour")
    return [a for a in ADJECTIVES if a[2] in kinds]


@dataclass(frozen=True)
class Verb:
    en: str  # base form, with any particle: "look at"
    en_s: str  # third person singular present
    en_past: str
    de: str  # infinitive without a separable prefix
    de_s: str  # er/sie/es
    de_part: str  # past participle, with the prefix
    aux: str = "haben"
    prefix: str = ""  # separable prefix: "ruft ... an"
    de_1: str = ""  # ich, when not the infinitive minus "n"

    def german(self, person):
        if person == "3sg":
            return self.de_s
        if person == "1sg":
            return self.de_1 or self.de[:-1]
        return self.de


# Transitive, accusative object: verb -> (subject tags, object tags).
TRANSITIVE = {
    v: tags for v, tags in [
        (Verb("see", "sees", "saw", "sehen", "sieht", "gesehen"), ("person animal", "person animal thing")),
        (Verb("find", "finds", "found", "finden", "findet", "gefunden"), ("person animal", "portable animal")),
        (Verb("buy", "buys", "bought", "kaufen", "kauft", "gekauft"), ("person", "portable")),
        (Verb("carry", "carries", "carried", "tragen", "trägt", "getragen"), ("person", "portable")),
        (Verb("read", "reads", "read", "lesen", "liest", "gelesen"), ("person", "book letter newspaper map")),
        (Verb("eat", "eats", "ate", "essen", "isst", "gegessen"), ("person animal", "food")),
        (Verb("paint", "paints", "painted", "malen", "malt", "gemalt"), ("person", "person animal thing")),
        (Verb("draw", "draws", "drew", "zeichnen", "zeichnet", "gezeichnet"), ("person", "person animal thing")),
        (Verb("hold", "holds", "held", "halten", "hält", "gehalten"), ("person", "portable")),
        (Verb("take", "takes", "took", "nehmen", "nimmt", "genommen"), ("person", "portable")),
        (Verb("look for", "looks for", "looked for", "suchen", "sucht", "gesucht"), ("person animal", "person animal portable")),
        (Verb("love", "loves", "loved", "lieben", "liebt", "geliebt"), ("person", "person animal")),
        (Verb("need", "needs", "needed", "brauchen", "braucht", "gebraucht"), ("person", "portable car bicycle")),
        (Verb("open", "opens", "opened", "öffnen", "öffnet", "geöffnet"), ("person", "door window box bag bottle book letter")),
        (Verb("wash", "washes", "washed", "waschen", "wäscht", "gewaschen"), ("person", "car bicycle cup dog horse baby shoe jacket")),
        (Verb("visit", "visits", "visited", "besuchen", "besucht", "besucht"), ("person", "person")),
        (Verb("meet", "meets", "met", "treffen", "trifft", "getroffen"), ("person", "person")),
        (Verb("feed", "feeds", "fed", "füttern", "füttert", "gefüttert", "haben", "", "füttere"), ("person", "animal baby")),
        (Verb("catch", "catches", "caught", "fangen", "fängt", "gefangen"), ("person animal", "ball mouse fish bird rabbit")),
        (Verb("throw", "throws", "threw", "werfen", "wirft", "geworfen"), ("person", "ball stone")),
        (Verb("hear", "hears", "heard", "hören", "hört", "gehört"), ("person animal", "person animal song")),
        (Verb("call", "calls", "called", "rufen", "ruft", "angerufen", "haben", "an"), ("person", "person")),
        (Verb("look at", "looks at", "looked at", "sehen", "sieht", "angesehen", "haben", "an"), ("person animal", "person animal thing")),
        (Verb("pick up", "picks up", "picked up", "heben", "hebt", "aufgehoben", "haben", "auf"), ("person", "portable")),
        (Verb("write", "writes", "wrote", "schreiben", "schreibt", "geschrieben"), ("person", "letter song book")),
        (Verb("sing", "sings", "sang", "singen", "singt", "gesungen"), ("person", "song")),
    ]
}
# Transitive with a dative object.
DATIVE = {
    v: tags for v, tags in [
        (Verb("help", "helps", "helped", "helfen", "hilft", "geholfen"), ("person", "person animal")),
        (Verb("follow", "follows", "followed", "folgen", "folgt", "gefolgt", "sein"), ("person animal", "person animal")),
        (Verb("thank", "thanks", "thanked", "danken", "dankt", "gedankt"), ("person", "person")),
    ]
}
# Dative recipient, accusative thing: "gives the dog an apple" / "gives an apple to the dog".
DITRANSITIVE = {
    v: tags for v, tags in [
        (Verb("give", "gives", "gave", "geben", "gibt", "gegeben"), ("person", "person animal", "portable")),
        (Verb("show", "shows", "showed", "zeigen", "zeigt", "gezeigt"), ("person", "person", "portable")),
        (Verb("bring", "brings", "brought", "bringen", "bringt", "gebracht"), ("person", "person animal", "portable")),
    ]
}
# A prepositional object whose preposition differs between the languages:
# verb -> (subject tags, English preposition, German preposition, case, object tags).
PREPOSITIONAL = {
    v: rest for v, *rest in [
        (Verb("wait", "waits", "waited", "warten", "wartet", "gewartet"), "person animal", "for", "auf", ACC, "person animal bus train"),
        (Verb("talk", "talks", "talked", "sprechen", "spricht", "gesprochen"), "person", "to", "mit", DAT, "person"),
        (Verb("dream", "dreams", "dreamed", "träumen", "träumt", "geträumt"), "person animal", "of", "von", DAT, "person animal portable"),
        (Verb("think", "thinks", "thought", "denken", "denkt", "gedacht"), "person", "of", "an", ACC, "person animal"),
        (Verb("laugh", "laughs", "laughed", "lachen", "lacht", "gelacht"), "person", "at", "über", ACC, "person animal"),
        (Verb("play", "plays", "played", "spielen", "spielt", "gespielt"), "person animal", "with", "mit", DAT, "person animal ball toy"),
    ]
}
# Intransitive with an optional place: verb -> subject tags.
INTRANSITIVE = {
    v: tags for v, tags in [
        (Verb("sleep", "sleeps", "slept", "schlafen", "schläft", "geschlafen"), "person animal"),
        (Verb("play", "plays", "played", "spielen", "spielt", "gespielt"), "person animal"),
        (Verb("work", "works", "worked", "arbeiten", "arbeitet", "gearbeitet"), "person"),
        (Verb("wait", "waits", "waited", "warten", "wartet", "gewartet"), "person animal"),
        (Verb("sit", "sits", "sat", "sitzen", "sitzt", "gesessen"), "person animal"),
        (Verb("stand", "stands", "stood", "stehen", "steht", "gestanden"), "person animal"),
        (Verb("sing", "sings", "sang", "singen", "singt", "gesungen"), "person bird"),
        (Verb("dance", "dances", "danced", "tanzen", "tanzt", "getanzt"), "person"),
        (Verb("live", "lives", "lived", "wohnen", "wohnt", "gewohnt"), "person"),
        (Verb("eat", "eats", "ate", "essen", "isst", "gegessen"), "person animal"),
        (Verb("shop", "shops", "shopped", "kaufen", "kauft", "eingekauft", "haben", "ein"), "person"),
        (Verb("laugh", "laughs", "laughed", "lachen", "lacht", "gelacht"), "person"),
    ]
}
SWIM = Verb("swim", "swims", "swam", "schwimmen", "schwimmt", "geschwommen", "sein")
# Motion towards, through, out of or across a place (perfect with "sein").
MOTION = {
    v: tags for v, tags in [
        (Verb("run", "runs", "ran", "laufen", "läuft", "gelaufen", "sein"), "person animal"),
        (Verb("go", "goes", "went", "gehen", "geht", "gegangen", "sein"), "person"),
        (Verb("drive", "drives", "drove", "fahren", "fährt", "gefahren", "sein"), "person"),
        (Verb("fly", "flies", "flew", "fliegen", "fliegt", "geflogen", "sein"), "bird"),
        (Verb("come", "comes", "came", "kommen", "kommt", "gekommen", "sein"), "person animal"),
        (Verb("walk", "walks", "walked", "gehen", "geht", "gegangen", "sein"), "person animal"),
    ]
}
# That-clause verbs (present only): English 3sg, base, German 3sg, ich, wir/sie.
SAYING = [("says", "say", "sagt", "sage", "sagen"), ("knows", "know", "weiß", "weiß", "wissen"),
          ("thinks", "think", "glaubt", "glaube", "glauben"), ("hopes", "hope", "hofft", "hoffe", "hoffen")]
# Modals: English 3sg, English other, question word, German 3sg = ich, wir/sie.
MODALS = [("wants to", "want to", None, "will", "wollen"), ("can", "can", "can", "kann", "können"),
          ("must", "must", "must", "muss", "müssen")]
AUXILIARIES = {"haben": {"1sg": "habe", "3sg": "hat", "pl": "haben"}, "sein": {"1sg": "bin", "3sg": "ist", "pl": "sind"}}
# "to be" by tense: English forms, German forms.
BE = {"pres": ({"1sg": "am", "3sg": "is", "pl": "are"}, {"1sg": "bin", "3sg": "ist", "pl": "sind"}),
      "past": ({"1sg": "was", "3sg": "was", "pl": "were"}, {"1sg": "war", "3sg": "war", "pl": "waren"})}
# Time adverbs: English, German, tenses, English position ("end" or "pre": before the verb).
TIMES = [
    ("today", "heute", "pres past", "end"), ("now", "jetzt", "pres", "end"), ("yesterday", "gestern", "past", "end"),
    ("every day", "jeden Tag", "pres", "end"), ("in the morning", "am Morgen", "pres past", "end"),
    ("in the evening", "am Abend", "pres past", "end"), ("at night", "in der Nacht", "pres past", "end"),
    ("on Sunday", "am Sonntag", "pres past", "end"), ("last week", "letzte Woche", "past", "end"),
    ("this morning", "heute Morgen", "pres past", "end"),
    ("often", "oft", "pres", "pre"), ("always", "immer", "pres", "pre"), ("sometimes", "manchmal", "pres", "pre"),
]
# Subjects as pronouns: English, German, person.
PRONOUNS = [("I", "ich", "1sg"), ("we", "wir", "pl"), ("he", "er", "3sg"), ("she", "sie", "3sg"), ("they", "sie", "pl")]
# Object pronouns: English, German accusative, German dative.
OBJECT_PRONOUNS = [("me", "mich", "mir"), ("him", "ihn", "ihm"), ("her", "sie", "ihr"), ("us", "uns", "uns"),
                   ("them", "sie", "ihnen")]
# Clauses about the weather, for "because" and "when": English, German subject, verb, predicate.
WEATHER = [("it is raining", "es", "regnet", ""), ("it is snowing", "es", "schneit", ""),
           ("the sun is shining", "die Sonne", "scheint", ""), ("it is cold", "es", "ist", "kalt"),
           ("it is warm", "es", "ist", "warm")]

# MARK: - Determiners and noun phrases

DEFINITE = {"m": ("der", "den", "dem"), "f": ("die", "die", "der"), "n": ("das", "das", "dem"), "pl": ("die", "die", "den")}
DER_WORD = {"m": ("er", "en", "em"), "f": ("e", "e", "er"), "n": ("es", "es", "em"), "pl": ("e", "e", "en")}
EIN_WORD = {"m": ("", "en", "em"), "f": ("e", "e", "er"), "n": ("", "", "em"), "pl": ("e", "e", "en")}
# Determiner kind -> (English singular, English plural, German stem, declension).
DETERMINERS = {
    "the": ("the", "the", None, "definite"), "a": ("a", None, "ein", "ein"), "my": ("my", "my", "mein", "ein"),
    "his": ("his", "his", "sein", "ein"), "her": ("her", "her", "ihr", "ein"), "our": ("our", "our", "unser", "ein"),
    "this": ("this", "these", "dies", "der"), "no": ("no", "no", "kein", "ein"),
}
NUMBERS = [("two", "zwei"), ("three", "drei"), ("four", "vier"), ("five", "fünf")]
CONTRACTIONS = {("in", "dem"): "im", ("in", "das"): "ins", ("an", "dem"): "am", ("an", "das"): "ans",
                ("zu", "dem"): "zum", ("zu", "der"): "zur", ("von", "dem"): "vom"}


def adjective_ending(declension, key, case):
    """The ending after a der-word (weak), an ein-word (mixed) or no article (strong)."""
    if declension == "strong":
        return "en" if case == DAT else "e"
    if key == "pl" or case == DAT or (case == ACC and key == "m"):
        return "en"
    # Left: the nominative, and the accusative of feminine and neuter nouns.
    return {"m": "er", "n": "es"}.get(key, "e") if declension == "ein" else "e"


def inflect(adjective, ending):
    return adjective + (ending[1:] if adjective.endswith("e") and ending.startswith("e") else ending)


@dataclass
class NounPhrase:
    """A noun phrase chosen once and rendered in any case; `negate` turns "a"/no article
    into German "kein" (the English side keeps "a" after "not")."""
    noun: Noun
    plural: bool
    determiner: str  # a DETERMINERS key, a number word, or "" (bare plural)
    adjective: tuple | None
    modifier: tuple | None = None  # ("with", NounPhrase) / ("from", Place): "der Mann mit dem Hut"
    negate: bool = False

    @property
    def person(self):
        return "pl" if self.plural else "3sg"

    @property
    def indefinite(self):
        """"a" dog, or dogs with no article: what German negates with "kein"."""
        return self.determiner in ("a", "")

    def english(self):
        words = []
        if self.determiner in DETERMINERS:
            words.append(DETERMINERS[self.determiner][1 if self.plural else 0])
        elif self.determiner:
            words.append(self.determiner)
        if self.adjective:
            words.append(self.adjective[0])
        words.append(self.noun.en_plural if self.plural else self.noun.en)
        if words[0] == "a" and words[1][0] in "aeiou":
            words[0] = "an"
        return words + self.english_modifier()

    def english_modifier(self):
        if not self.modifier:
            return []
        kind, what = self.modifier
        if kind == "with":
            return ["with"] + what.english()
        return ["from", "the", what.noun.en]

    def german(self, case, preposition=""):
        """Words of the phrase in `case`, after `preposition` when given (contracted if German contracts it)."""
        key = "pl" if self.plural else self.noun.gender
        determiner = "no" if self.negate and self.indefinite else self.determiner
        words, declension = [], "strong"
        if determiner == "the":
            words, declension = [DEFINITE[key][case]], "der"
        elif determiner in DETERMINERS:
            _, _, stem, kind = DETERMINERS[determiner]
            words, declension = [stem + (DER_WORD if kind == "der" else EIN_WORD)[key][case]], kind
        elif determiner:
            words = [dict(NUMBERS)[determiner]]
        if self.adjective:
            words.append(inflect(self.adjective[1], adjective_ending(declension, key, case)))
        if self.plural:
            noun = self.noun.de_plural
            if case == DAT and not noun.endswith(("n", "s")):
                noun += "n"
        else:
            noun = self.noun.weak if self.noun.weak and case != NOM else self.noun.de
        words.append(noun)
        if preposition:
            contracted = CONTRACTIONS.get((preposition, words[0])) if determiner == "the" and not self.plural else None
            words = [contracted] + words[1:] if contracted else [preposition] + words
        return words + self.german_modifier()

    def german_modifier(self):
        if not self.modifier:
            return []
        kind, what = self.modifier
        if kind == "with":
            return what.german(DAT, "mit")
        return NounPhrase(what.noun, False, "the", None).german(DAT, "aus")


# MARK: - Clauses


@dataclass
class Clause:
    """One clause in both languages, kept in parts so it can be put in any word order.

    German: subject, finite verb, the middle field (pronoun objects, time, then noun
    objects, "nicht" and prepositional phrases), the separable prefix and the right bracket
    (participle, infinitive, predicate adjective). English: subject, the verb as stated and
    as asked (auxiliary + rest), what follows the verb, and a time adverb, before the verb
    ("often") or at the end ("today")."""
    en_subject: list
    en_verb: list
    en_question: tuple | None
    en_rest: list
    de_subject: list
    de_finite: str
    de_objects: list
    de_prefix: str = ""
    de_bracket: list = field(default_factory=list)
    de_pronouns: list = field(default_factory=list)
    en_time: list = field(default_factory=list)
    en_time_before_verb: bool = False
    de_time: list = field(default_factory=list)

    @property
    def de_middle(self):
        return self.de_pronouns + self.de_time + self.de_objects

    @property
    def de_tail(self):
        return ([self.de_prefix] if self.de_prefix else []) + self.de_bracket

    def english(self):
        if self.en_time_before_verb:
            return self.en_subject + self.en_time + self.en_verb + self.en_rest
        return self.en_subject + self.en_verb + self.en_rest + self.en_time

    def english_question(self):
        auxiliary, rest = self.en_question
        return [auxiliary] + self.en_subject + rest + self.en_rest

    def german_main(self):
        return self.de_subject + [self.de_finite] + self.de_middle + self.de_tail

    def german_verb_first(self):
        """Questions, and main clauses after a "wenn" clause or a fronted adverb."""
        return [self.de_finite] + self.de_subject + self.de_middle + self.de_tail

    def german_subordinate(self):
        return self.de_subject + self.de_middle + self.de_bracket + [self.de_prefix + self.de_finite]


@dataclass
class Subject:
    en: list
    de: list
    person: str  # "1sg", "3sg", "pl"
    phrase: NounPhrase | None  # None for a pronoun


class Grammar:
    """Random clauses and sentences; every choice goes through one seeded generator."""

    def __init__(self, rng):
        self.rng = rng

    def chance(self, p):
        return self.rng.random() < p

    def pick(self, items):
        return self.rng.choice(items)

    # MARK: Phrases

    def noun_phrase(self, tags, modifiable=False):
        noun = self.pick(nouns_with(tags))
        plural = self.chance(0.3)
        if plural:
            determiner = self.pick(["the", "the", "my", "our", "this", "", ""] + [n for n, _ in NUMBERS])
        else:
            determiner = self.pick(["the", "the", "the", "a", "a", "my", "his", "her", "our", "this"])
        adjective = self.pick(adjectives_for(noun)) if self.chance(0.3) else None
        modifier = None
        if modifiable and "person" in noun.tags and self.chance(0.15):
            if self.chance(0.5):
                colour = self.pick(COLOURS) if self.chance(0.5) else None
                modifier = ("with", NounPhrase(self.pick(nouns_with("hat umbrella bag dog cat jacket")), False,
                                               self.pick(["the", "a"]), colour))
            else:
                modifier = ("from", self.pick([p for p in PLACES if p.noun.en in ("village", "city")]))
        return NounPhrase(noun, plural, determiner, adjective, modifier)

    def subject(self, tags):
        if "person" in tags.split() and self.chance(0.2):
            en, de, person = self.pick(PRONOUNS)
            return Subject([en], [de], person, None)
        phrase = self.noun_phrase(tags, modifiable=True)
        return Subject(phrase.english(), phrase.german(NOM), phrase.person, phrase)

    def place_phrase(self, place):
        """"the park", sometimes "a park", "my garden" (possessives only for places one owns), "the old park"."""
        owned = place.noun.en in OWNED_PLACES
        determiner = self.pick(["the"] * 6 + ["a"] + (["my", "our", "his"] if owned else []))
        adjective = self.pick(PLACE_ADJECTIVES) if self.chance(0.15) else None
        return NounPhrase(place.noun, False, determiner, adjective)

    def location(self, places_only=False):
        """Where something is: (English words, German words), the German noun in the dative."""
        if places_only or self.chance(0.7):
            p = self.pick(PLACES)
            phrase = self.place_phrase(p)
            return [p.en_at] + phrase.english(), phrase.german(DAT, p.de_at)
        en, de = self.pick(SPATIAL)
        phrase = NounPhrase(self.pick(SURFACES if en == "on" else LANDMARKS), False, self.pick(["the", "the", "a", "my"]), None)
        return en.split() + phrase.english(), phrase.german(DAT, de)

    def path(self, flying):
        """Where something goes: to (the place's own preposition), through, out of, across."""
        kind = self.pick(["to", "to", "to", "through", "out of", "across"])
        p = self.pick([p for p in PLACES if kind == "to" or kind in p.paths])
        phrase = self.place_phrase(p)
        if kind == "to":
            return ["to"] + phrase.english(), phrase.german(p.to_case, p.de_to)
        de, case = {"through": ("durch", ACC), "out of": ("aus", DAT), "across": ("über", ACC)}[kind]
        en = "over" if kind == "across" and flying else kind
        return en.split() + phrase.english(), phrase.german(case, de)

    def object_pronoun(self):
        return self.pick(OBJECT_PRONOUNS)

    # MARK: Clauses

    def clause(self, tense=None, negate=None, time=None, modal=None):
        """A random clause: a verb with its subject, objects and adjuncts. `tense` is "pres" or
        "past"; `negate`, `time` (a time adverb) and `modal` (present only) are drawn when None."""
        tense = tense or ("past" if self.chance(0.3) else "pres")
        negate = self.chance(0.15) if negate is None else negate
        modal = (tense == "pres" and not negate and self.chance(0.15)) if modal is None else modal and tense == "pres" and not negate
        want_time = self.chance(0.25) if time is None else time
        kind = self.rng.choices(["transitive", "dative", "ditransitive", "prepositional", "intransitive", "swim", "motion", "be"],
                                [30, 5, 8, 8, 18, 3, 12, 10])[0]
        if kind == "be":
            return self.be_clause(tense, negate, want_time)
        if kind == "transitive":
            verb, (subject_tags, object_tags) = self.pick(list(TRANSITIVE.items()))
        elif kind == "dative":
            verb, (subject_tags, object_tags) = self.pick(list(DATIVE.items()))
        elif kind == "ditransitive":
            verb, (subject_tags, recipient_tags, object_tags) = self.pick(list(DITRANSITIVE.items()))
        elif kind == "prepositional":
            verb, (subject_tags, en_prep, de_prep, prep_case, object_tags) = self.pick(list(PREPOSITIONAL.items()))
        elif kind == "intransitive":
            verb, subject_tags = self.pick(list(INTRANSITIVE.items()))
        elif kind == "swim":
            verb, subject_tags = SWIM, "person animal"
        else:
            verb, subject_tags = self.pick(list(MOTION.items()))
        subject = self.subject(subject_tags)
        # No pronoun objects after a pronoun subject: that avoids "I see me".
        pronouns_allowed = subject.phrase is not None
        en_rest, de_pronouns, de_objects, de_adjuncts = [], [], [], []
        negated_by_kein = False

        def negatable(phrase):
            """Negation of an indefinite object is German "kein"; of a counted one, "the"."""
            nonlocal negated_by_kein
            if negate and phrase.determiner in dict(NUMBERS):
                phrase.determiner = "the"
            if negate and phrase.indefinite:
                phrase.negate = negated_by_kein = True
            return phrase

        if kind == "transitive":
            if pronouns_allowed and "person" in object_tags.split() and self.chance(0.15):
                en, acc, _ = self.object_pronoun()
                en_rest.append(en)
                de_pronouns.append(acc)
            else:
                phrase = negatable(self.noun_phrase(object_tags))
                en_rest += phrase.english()
                de_objects += phrase.german(ACC)
        elif kind == "dative":
            if pronouns_allowed and self.chance(0.2):
                en, _, dat = self.object_pronoun()
                en_rest.append(en)
                de_pronouns.append(dat)
            else:
                phrase = negatable(self.noun_phrase(object_tags))
                en_rest += phrase.english()
                de_objects += phrase.german(DAT)
        elif kind == "ditransitive":
            thing = negatable(self.noun_phrase(object_tags))
            if pronouns_allowed and self.chance(0.2):
                en, _, dat = self.object_pronoun()
                en_rest += [en] + thing.english()
                de_pronouns.append(dat)
                de_objects += thing.german(ACC)
            else:
                recipient = self.noun_phrase(recipient_tags)
                if self.chance(0.5):
                    en_rest += recipient.english() + thing.english()
                else:
                    en_rest += thing.english() + ["to"] + recipient.english()
                de_objects += recipient.german(DAT) + thing.german(ACC)
        elif kind == "prepositional":
            if pronouns_allowed and "person" in object_tags.split() and self.chance(0.2):
                en, acc, dat = self.object_pronoun()
                en_rest += [en_prep, en]
                de_adjuncts += [de_prep, acc if prep_case == ACC else dat]
            else:
                phrase = self.noun_phrase(object_tags)
                en_rest += [en_prep] + phrase.english()
                de_adjuncts += phrase.german(prep_case, de_prep)
        elif kind == "swim":
            phrase = self.place_phrase(self.pick(WATER))
            en_rest += ["in"] + phrase.english()
            de_adjuncts += phrase.german(DAT, "in")
        elif kind == "motion":
            en, de = self.path(verb.en == "fly")
            en_rest += en
            de_adjuncts += de
        # "laugh" takes no place: "laughs at the school" would read as the prepositional "laugh at".
        if kind == "intransitive" and verb.en != "laugh" and (verb.en == "live" or self.chance(0.75)) or kind == "transitive" and self.chance(0.15):
            en, de = self.location(places_only=verb.en == "live")
            en_rest += en
            de_adjuncts += de

        person, third = subject.person, subject.person == "3sg"
        does = "does" if third else "do"
        prefix, bracket = "", []
        if modal:
            en_3, en_other, en_asked, de_singular, de_plural = self.pick(MODALS)
            en_verb = (en_3 if third else en_other).split() + verb.en.split()
            en_question = (en_asked, verb.en.split()) if en_asked else (does, ["want", "to"] + verb.en.split())
            finite = de_plural if person == "pl" else de_singular
            bracket = [verb.prefix + verb.de]
        elif tense == "past":
            en_verb = ["did", "not"] + verb.en.split() if negate else verb.en_past.split()
            en_question = ("did", verb.en.split())
            finite = AUXILIARIES[verb.aux][person]
            bracket = [verb.de_part]
        else:
            en_verb = [does, "not"] + verb.en.split() if negate else (verb.en_s if third else verb.en).split()
            en_question = (does, verb.en.split())
            finite = verb.german(person)
            prefix = verb.prefix
        clause = Clause(subject.en, en_verb, en_question, en_rest, subject.de, finite,
                        de_objects + ([] if negated_by_kein or not negate else ["nicht"]) + de_adjuncts,
                        prefix, bracket, de_pronouns)
        if want_time:
            self.add_time(clause, tense, before_verb_allowed=not negate and not modal)
        return clause

    def be_clause(self, tense, negate, want_time):
        """Subject + is/was + adjective: "Der Hund ist müde", "weil der Hund müde ist"."""
        subject = self.subject("person animal thing")
        if subject.phrase is None:
            choices = [a for a in ADJECTIVES if a[2] == "animate"]
        else:
            choices = [a for a in adjectives_for(subject.phrase.noun) if a != subject.phrase.adjective]
        adjective = self.pick(choices)
        en_be, de_be = BE[tense][0][subject.person], BE[tense][1][subject.person]
        clause = Clause(subject.en, [en_be] + (["not"] if negate else []), (en_be, []), [adjective[0]], subject.de, de_be,
                        ["nicht"] if negate else [], "", [adjective[1]])
        if want_time:
            self.add_time(clause, tense, before_verb_allowed=False)
        return clause

    def add_time(self, clause, tense, before_verb_allowed):
        en, de, _, position = self.pick([t for t in TIMES if tense in t[2].split() and (before_verb_allowed or t[3] == "end")])
        clause.en_time, clause.de_time, clause.en_time_before_verb = en.split(), de.split(), position == "pre"

    def subordinate(self, tense=None):
        """A clause for after "because", "that", "when": mostly a random one, sometimes the weather."""
        if self.chance(0.15):
            en, de_subject, verb, predicate = self.pick(WEATHER)
            return Clause(en.split(), [], None, [], de_subject.split(), verb, [], "", [predicate] if predicate else [])
        return self.clause(tense=tense)

    # MARK: Sentences

    def sentence(self):
        """One (English, German) pair from a randomly chosen sentence pattern."""
        pattern = self.rng.choices([self.statement, self.fronted, self.question, self.wh_question, self.because,
                                    self.that, self.when, self.coordinated], [34, 12, 9, 5, 12, 10, 8, 10])[0]
        return pattern()

    def statement(self):
        c = self.clause()
        return finish(c.english(), "."), finish(c.german_main(), ".")

    def fronted(self):
        """A time adverb first: English keeps subject-verb order, German puts the verb second."""
        c = self.clause(time=True)
        if c.en_time_before_verb and c.en_time != ["sometimes"]:
            return finish(c.english(), "."), finish(c.german_main(), ".")
        en_time, de_time = c.en_time, c.de_time
        c.en_time, c.de_time, c.en_time_before_verb = [], [], False
        return finish(en_time + c.english(), "."), finish(de_time + c.german_verb_first(), ".")

    def question(self):
        c = self.clause(negate=False, time=False)
        return finish(c.english_question(), "?"), finish(c.german_verb_first(), "?")

    def wh_question(self):
        """Who ...? (the subject asked), What ...? (the object), Where ...? (the place)."""
        kind = self.pick(["who", "what", "where"])
        past = self.chance(0.3)
        if kind == "who":
            verb, (_, object_tags) = self.pick(list(TRANSITIVE.items()))
            phrase = self.noun_phrase(object_tags)
            if past:
                de = ["wer", AUXILIARIES[verb.aux]["3sg"]] + phrase.german(ACC) + [verb.de_part]
            else:
                de = ["wer", verb.de_s] + phrase.german(ACC) + ([verb.prefix] if verb.prefix else [])
            return finish(["who"] + (verb.en_past if past else verb.en_s).split() + phrase.english(), "?"), finish(de, "?")
        if kind == "what":
            verb, (subject_tags, _) = self.pick([(v, t) for v, t in TRANSITIVE.items() if "person" not in t[1].split()])
        else:
            verb, subject_tags = self.pick([(v, t) for v, t in INTRANSITIVE.items() if v.en != "live"])
        subject = self.subject(subject_tags)
        does = "did" if past else ("does" if subject.person == "3sg" else "do")
        en = [kind, does] + subject.en + verb.en.split()
        word = {"what": "was", "where": "wo"}[kind]
        if past:
            de = [word, AUXILIARIES[verb.aux][subject.person]] + subject.de + [verb.de_part]
        else:
            de = [word, verb.german(subject.person)] + subject.de + ([verb.prefix] if verb.prefix else [])
        return finish(en, "?"), finish(de, "?")

    def because(self):
        main = self.clause(negate=False, time=False)
        sub = self.subordinate()
        return (finish(main.english() + ["because"] + sub.english(), "."),
                finish(main.german_main() + [",", "weil"] + sub.german_subordinate(), "."))

    def that(self):
        en_s, en_base, de_3, de_1, de_plural = self.pick(SAYING)
        subject = self.subject("person")
        en_verb = en_s if subject.person == "3sg" else en_base
        de_verb = {"3sg": de_3, "1sg": de_1, "pl": de_plural}[subject.person]
        sub = self.subordinate()
        return (finish(subject.en + [en_verb, "that"] + sub.english(), "."),
                finish(subject.de + [de_verb, ",", "dass"] + sub.german_subordinate(), "."))

    def when(self):
        """When/If A, B: after the "wenn" clause the German main clause starts with its verb."""
        sub = self.subordinate(tense="pres")
        main = self.clause(tense="pres", negate=False, time=False)
        return (finish([self.pick(["when", "if"])] + sub.english() + [","] + main.english(), "."),
                finish(["wenn"] + sub.german_subordinate() + [","] + main.german_verb_first(), "."))

    def coordinated(self):
        first, second = self.clause(time=False), self.clause(time=False)
        if self.chance(0.6):
            return (finish(first.english() + ["and"] + second.english(), "."),
                    finish(first.german_main() + ["und"] + second.german_main(), "."))
        return (finish(first.english() + [",", "but"] + second.english(), "."),
                finish(first.german_main() + [",", "aber"] + second.german_main(), "."))


def finish(words, mark):
    """Text from words: commas attached to the word before, the first letter capitalised,
    the final punctuation mark added."""
    text = ""
    for w in words:
        text += w if w == "," or not text else " " + w
    return text[0].upper() + text[1:] + mark


def generate(seed):
    """Unique pairs: no English and no German sentence occurs twice, within or across splits."""
    rng = random.Random(seed)
    grammar = Grammar(rng)
    wanted = sum(n for _, n in SPLITS)
    pairs, seen_en, seen_de = [], set(), set()
    while len(pairs) < wanted:
        en, de = grammar.sentence()
        if not (MIN_WORDS <= len(en.split()) <= MAX_WORDS and MIN_WORDS <= len(de.split()) <= MAX_WORDS):
            continue
        if en in seen_en or de in seen_de:
            continue
        seen_en.add(en)
        seen_de.add(de)
        pairs.append((en, de))
    return pairs


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "Fixtures" / "toy")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    pairs = generate(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    start = 0
    for split, count in SPLITS:
        chunk = pairs[start:start + count]
        start += count
        for language, index in (("en", 0), ("de", 1)):
            (args.out / f"{split}.{language}").write_text("".join(p[index] + "\n" for p in chunk), encoding="utf-8")
        print(f"{args.out}/{split}.en, {split}.de: {len(chunk)} pairs")


if __name__ == "__main__":
    main()
