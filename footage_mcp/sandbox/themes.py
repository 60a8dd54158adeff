"""Hand-written album themes the seeded library is generated from (pure data).

Each theme is one album: its name, description, keywords (English concept labels from
:mod:`footage_mcp.sandbox.taxonomy`), labels, the years its assets were created in, how many
assets of each media kind it owns, and the subjects those assets are drawn from. Asset counts per
kind add up to the library's 320 assets: 144 images, 96 videos, 38 audio files, 42 documents.

No keyword here is "France" (only its narrower concepts are used), and no text mentions it, so a
search for "France" can only find assets through taxonomy expansion.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LOOKS", "PLAIN", "THEMES", "Look", "Subject", "Theme"]


@dataclass(frozen=True, slots=True)
class Subject:
    """What an asset shows: a title core ("Eiffel Tower at dusk") and its concept keywords."""

    title: str
    keywords: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Theme:
    """One album of the seeded library and the recipe for the assets it owns."""

    name: str
    description: str
    place: str
    years: tuple[int, int]
    keywords: tuple[str, ...]
    labels: tuple[str, ...]
    counts: tuple[tuple[str, int], ...]
    subjects: tuple[tuple[str, tuple[Subject, ...]], ...]

    def count(self, kind: str) -> int:
        """How many assets of media ``kind`` this album owns."""
        return dict(self.counts).get(kind, 0)

    def subjects_for(self, kind: str) -> tuple[Subject, ...]:
        """Subjects for ``kind`` (documents and audio fall back to the visual subjects)."""
        table = dict(self.subjects)
        return table.get(kind) or table["visual"]


def _s(title: str, *keywords: str) -> Subject:
    """Shorthand constructor used by the theme table below."""
    return Subject(title, keywords)


THEMES: tuple[Theme, ...] = (
    Theme(
        name="Paris Street Life 2019",
        description="Street photography and handheld video from a week in Paris. Cafés, metro "
        "entrances, river banks and the city after dark.",
        place="in Paris",
        years=(2019, 2019),
        keywords=("Paris", "Street", "City"),
        labels=("#editorial", "#street"),
        counts=(("image", 42), ("video", 20), ("audio", 2)),
        subjects=(
            (
                "visual",
                (
                    _s("Eiffel Tower at dusk", "Eiffel Tower", "Paris", "Night"),
                    _s("Café terrace in Montmartre", "Paris", "Street", "People"),
                    _s("Seine riverbank at sunrise", "Paris", "City"),
                    _s("Metro entrance at Abbesses", "Paris", "Street", "Architecture"),
                    _s("Crowd on the Champs-Élysées", "Paris", "Crowd", "Street"),
                    _s("Street musician near Notre-Dame", "Paris", "Street", "Music"),
                    _s("Haussmann facades in the rain", "Paris", "Architecture"),
                    _s("Night traffic on Rue de Rivoli", "Paris", "Night", "Street"),
                    _s("Flower market on Île de la Cité", "Paris", "Street"),
                    _s("Louvre pyramid at night", "Paris", "Architecture", "Night"),
                    _s("Booksellers along the Seine", "Paris", "Street", "People"),
                    _s("Portrait of a baker in Belleville", "Paris", "Portrait", "Food"),
                    _s("Eiffel Tower from Trocadéro", "Eiffel Tower", "Paris", "Architecture"),
                ),
            ),
            (
                "audio",
                (
                    _s("Street ambience at Place du Tertre", "Paris", "Street", "Sound effect"),
                    _s("Metro platform ambience", "Paris", "Sound effect"),
                ),
            ),
        ),
    ),
    Theme(
        name="Alpine Summer",
        description="High-summer landscapes in the Swiss Alps: ridges, glacier lakes and pine "
        "forests, shot on foot and by drone.",
        place="in the Swiss Alps",
        years=(2021, 2022),
        keywords=("Alps", "Mountain", "Nature"),
        labels=("#outdoor", "#travel"),
        counts=(("image", 18), ("video", 8), ("audio", 2)),
        subjects=(
            (
                "visual",
                (
                    _s("Matterhorn above the clouds", "Alps", "Mountain"),
                    _s("Hikers on a ridge trail", "Alps", "Mountain", "People"),
                    _s("Alpine lake reflection", "Alps", "Lake"),
                    _s("Cows grazing on a high pasture", "Alps", "Nature"),
                    _s("Pine forest in morning fog", "Forest", "Alps"),
                    _s("Glacier tongue from above", "Alps", "Mountain"),
                    _s("Mountain hut at sunset", "Alps", "Sunset"),
                    _s("Paraglider over the valley", "Alps", "Mountain"),
                ),
            ),
            (
                "audio",
                (
                    _s("Mountain stream field recording", "Alps", "Nature", "Sound effect"),
                    _s("Cowbells at dawn", "Alps", "Sound effect"),
                ),
            ),
        ),
    ),
    Theme(
        name="Product Launch Berlin",
        description="Coverage of the spring product launch in Berlin: keynote, demo floor, hero "
        "shots and the event paperwork.",
        place="at the Berlin launch event",
        years=(2023, 2023),
        keywords=("Berlin", "Product", "Conference"),
        labels=("#event", "#press"),
        counts=(("image", 8), ("video", 8), ("document", 4)),
        subjects=(
            (
                "visual",
                (
                    _s("Keynote stage with opening slide", "Berlin", "Conference", "Product"),
                    _s("Product hero shot on a plinth", "Product"),
                    _s("Attendees at the demo tables", "Berlin", "Conference", "Crowd"),
                    _s("CEO on stage", "Berlin", "Conference", "Portrait"),
                    _s("Teaser projection on the Brandenburg Gate", "Brandenburg Gate", "Berlin", "Night"),
                    _s("Hands-on detail of the device", "Product"),
                    _s("Press Q&A panel", "Conference", "Interview"),
                ),
            ),
            (
                "document",
                (
                    _s("Launch run-of-show", "Berlin", "Conference"),
                    _s("Product fact sheet", "Product"),
                    _s("Speaker biographies", "Conference", "People"),
                ),
            ),
        ),
    ),
    Theme(
        name="Interviews — Season 2",
        description="Second season of the makers interview series: master takes, podcast cuts, "
        "guest portraits and transcripts.",
        place="for the second interview season",
        years=(2024, 2025),
        keywords=("Interview", "People"),
        labels=("#series", "#editorial"),
        counts=(("image", 2), ("video", 14), ("audio", 6), ("document", 4)),
        subjects=(
            (
                "visual",
                (
                    _s("Interview with a glassblower", "Interview", "Portrait"),
                    _s("Interview with a vintner", "Interview", "Food"),
                    _s("Interview with an architect in Munich", "Interview", "Munich", "Architecture"),
                    _s("Interview with a jazz pianist", "Interview", "Music"),
                    _s("Interview with a rescue-dog trainer", "Interview", "Dog"),
                    _s("Interview with a beekeeper", "Interview", "Nature"),
                    _s("Interview with a street photographer in Paris", "Interview", "Paris", "Street"),
                    _s("Studio setup, behind the camera", "Interview", "Office"),
                ),
            ),
            (
                "audio",
                (
                    _s("Podcast cut: the glassblower", "Interview"),
                    _s("Podcast cut: the jazz pianist", "Interview", "Music"),
                    _s("Room tone, studio B", "Sound effect"),
                ),
            ),
            (
                "document",
                (
                    _s("Transcript: the glassblower", "Interview"),
                    _s("Transcript: the beekeeper", "Interview"),
                ),
            ),
        ),
    ),
    Theme(
        name="Brand Audio Kit",
        description="The approved sound of the brand: sonic logo, music beds, interface sounds and "
        "voice-over, with licences and usage rules.",
        place="for the brand audio kit",
        years=(2020, 2025),
        keywords=("Music", "Sound effect"),
        labels=("#brand", "#licensed"),
        counts=(("audio", 14), ("document", 2)),
        subjects=(
            (
                "audio",
                (
                    _s("Sonic logo", "Music"),
                    _s("Upbeat corporate bed", "Music", "Business"),
                    _s("Ambient pad loop", "Music"),
                    _s("Interface click set", "Sound effect"),
                    _s("Notification chime", "Sound effect"),
                    _s("Voice-over: welcome message", "Voice-over"),
                    _s("Voice-over: product tagline", "Voice-over", "Product"),
                    _s("Acoustic guitar underscore", "Music"),
                    _s("Whoosh transitions", "Sound effect"),
                ),
            ),
            (
                "document",
                (
                    _s("Audio usage guidelines", "Music"),
                    _s("Music licence certificate", "Music"),
                ),
            ),
        ),
    ),
    Theme(
        name="Press Kit Documents",
        description="Everything the press office sends out: releases, fact sheets, biographies and "
        "brand guidelines, plus a few approved images.",
        place="for the press kit",
        years=(2018, 2025),
        keywords=("Business", "Product"),
        labels=("#press",),
        counts=(("image", 2), ("document", 20)),
        subjects=(
            (
                "visual",
                (
                    _s("Company logo on white", "Business"),
                    _s("Headquarters exterior", "Office", "Architecture"),
                ),
            ),
            (
                "document",
                (
                    _s("Press release: spring collection", "Product"),
                    _s("Company fact sheet", "Business"),
                    _s("Brand guidelines", "Business"),
                    _s("Executive biographies", "Business", "People"),
                    _s("Annual report summary", "Business"),
                    _s("Media contact list", "Business"),
                    _s("Product specification sheet", "Product"),
                    _s("Press release: Berlin launch", "Berlin", "Product", "Conference"),
                    _s("Photo usage terms", "Business"),
                    _s("Sustainability statement", "Business", "Nature"),
                ),
            ),
        ),
    ),
    Theme(
        name="Lyon Market Mornings",
        description="Early mornings at the food markets of Lyon: stalls, vendors, regulars and the river light.",
        place="at a Lyon market",
        years=(2022, 2022),
        keywords=("Lyon", "Food", "Street"),
        labels=("#food", "#editorial"),
        counts=(("image", 10), ("video", 4), ("audio", 2)),
        subjects=(
            (
                "visual",
                (
                    _s("Cheese stall at Les Halles", "Lyon", "Food"),
                    _s("Vendor weighing cherries", "Lyon", "Food", "People"),
                    _s("Market crowd on Quai Saint-Antoine", "Lyon", "Crowd", "Street"),
                    _s("Traditional bouchon interior", "Lyon", "Food"),
                    _s("Fourvière basilica from the river", "Lyon", "Architecture"),
                    _s("Bread baskets in morning light", "Food"),
                ),
            ),
            ("audio", (_s("Market ambience at Saint-Antoine", "Lyon", "Sound effect"),)),
        ),
    ),
    Theme(
        name="Rome: Stone and Light",
        description="Ancient and baroque Rome in hard southern light, from the Forum to the Trastevere alleys.",
        place="in Rome",
        years=(2016, 2018),
        keywords=("Rome", "Architecture"),
        labels=("#travel",),
        counts=(("image", 12), ("video", 4)),
        subjects=(
            (
                "visual",
                (
                    _s("Colosseum at first light", "Colosseum", "Rome", "Architecture"),
                    _s("Trevi Fountain crowd", "Rome", "Crowd"),
                    _s("Pantheon oculus", "Rome", "Architecture"),
                    _s("Vespa in a Trastevere alley", "Rome", "Street"),
                    _s("Spanish Steps at night", "Rome", "Night", "Architecture"),
                    _s("Forum ruins panorama", "Rome", "Architecture"),
                    _s("Espresso bar counter", "Rome", "Food"),
                ),
            ),
        ),
    ),
    Theme(
        name="Munich Oktoberfest 2023",
        description="Two days at the Oktoberfest grounds in Munich: tents, brass bands, rides and the parade.",
        place="at the Oktoberfest in Munich",
        years=(2023, 2023),
        keywords=("Munich", "Events", "Crowd"),
        labels=("#event",),
        counts=(("image", 8), ("video", 6), ("audio", 2)),
        subjects=(
            (
                "visual",
                (
                    _s("Beer tent interior", "Munich", "Crowd"),
                    _s("Brass band on the bandstand", "Munich", "Concert", "Music"),
                    _s("Ferris wheel at night", "Munich", "Night"),
                    _s("Traditional costume portrait", "Munich", "Portrait"),
                    _s("Parade of the breweries", "Munich", "Crowd", "Street"),
                    _s("Pretzel stand", "Munich", "Food"),
                ),
            ),
            ("audio", (_s("Brass band live recording", "Munich", "Music", "Concert"),)),
        ),
    ),
    Theme(
        name="Coastal Drone Reels",
        description="Aerial reels along the Amalfi coast: coves, cliffside villages and boats on turquoise water.",
        place="on the Amalfi coast",
        years=(2020, 2024),
        keywords=("Beach", "Italy"),
        labels=("#drone", "#social"),
        counts=(("image", 4), ("video", 12)),
        subjects=(
            (
                "visual",
                (
                    _s("Aerial over a hidden cove", "Beach", "Nature"),
                    _s("Waves on volcanic rocks", "Beach"),
                    _s("Cliffside village at sunset", "Italy", "Sunset", "Architecture"),
                    _s("Boats in a turquoise bay", "Beach", "Italy"),
                    _s("Lighthouse orbit", "Architecture"),
                    _s("Surfers at low tide", "Beach", "People"),
                ),
            ),
        ),
    ),
    Theme(
        name="Pets & Animals Stock",
        description="Stock photos and clips of dogs, cats and horses, cleared for commercial use.",
        place="for the animal stock collection",
        years=(2016, 2026),
        keywords=("Animals",),
        labels=("#stock",),
        counts=(("image", 14), ("video", 6)),
        subjects=(
            (
                "visual",
                (
                    _s("Golden retriever in the park", "Dog"),
                    _s("Puppy asleep on a blanket", "Dog"),
                    _s("Tabby cat on a windowsill", "Cat"),
                    _s("Kitten chasing a ribbon", "Cat"),
                    _s("Horse galloping in a paddock", "Horse"),
                    _s("Horse and rider on the beach", "Horse", "Beach"),
                    _s("Dog catching a frisbee", "Dog"),
                    _s("Two cats on a sofa", "Cat"),
                ),
            ),
        ),
    ),
    Theme(
        name="Wedding at Lake Como",
        description="A client wedding on the shore of Lake Como: ceremony, portraits, dinner and "
        "the paperwork that goes with it.",
        place="on Lake Como",
        years=(2022, 2022),
        keywords=("Wedding", "Lake", "Italy"),
        labels=("#client", "#wedding"),
        counts=(("image", 10), ("video", 6), ("audio", 2), ("document", 2)),
        subjects=(
            (
                "visual",
                (
                    _s("Ceremony on the terrace", "Wedding", "Lake"),
                    _s("Couple portrait by the water", "Wedding", "Portrait", "Lake"),
                    _s("First dance", "Wedding"),
                    _s("Table setting detail", "Wedding", "Food"),
                    _s("Guests toasting", "Wedding", "Crowd"),
                    _s("Boat arrival at the villa", "Wedding", "Lake", "Italy"),
                ),
            ),
            ("audio", (_s("Ceremony string quartet", "Wedding", "Music"),)),
            (
                "document",
                (
                    _s("Model release: bride and groom", "Wedding", "Portrait"),
                    _s("Shot list and timeline", "Wedding"),
                ),
            ),
        ),
    ),
    Theme(
        name="Office & Team Portraits",
        description="Team portraits, headshots and workplace scenes at headquarters, with signed releases.",
        place="at headquarters",
        years=(2021, 2025),
        keywords=("Office", "Portrait", "Business"),
        labels=("#internal", "#approved"),
        counts=(("image", 10), ("document", 6)),
        subjects=(
            (
                "visual",
                (
                    _s("Team portrait of the design department", "Portrait", "Office", "People"),
                    _s("Headshot of the head of sales", "Portrait", "Business"),
                    _s("Open-plan office in the morning", "Office"),
                    _s("Whiteboard session in a meeting room", "Office", "Business"),
                    _s("Reception desk", "Office", "Architecture"),
                ),
            ),
            (
                "document",
                (
                    _s("Model release: team portraits", "Portrait"),
                    _s("Photo consent form", "People"),
                    _s("Office floor plan", "Office"),
                ),
            ),
        ),
    ),
    Theme(
        name="Summer Concert Series",
        description="Open-air concerts through the summer: stage, crowd, sound checks, board mixes "
        "and the production documents.",
        place="at the summer concert series",
        years=(2024, 2025),
        keywords=("Concert", "Music", "Events"),
        labels=("#live",),
        counts=(("image", 4), ("video", 8), ("audio", 8), ("document", 4)),
        subjects=(
            (
                "visual",
                (
                    _s("Headliner under stage lights", "Concert", "Music", "Night"),
                    _s("Crowd with hands in the air", "Concert", "Crowd"),
                    _s("Drummer close-up", "Concert", "Music", "Portrait"),
                    _s("Afternoon sound check", "Concert", "Music"),
                ),
            ),
            (
                "audio",
                (
                    _s("Live set, board mix", "Concert", "Music"),
                    _s("Crowd noise sweetener", "Crowd", "Sound effect"),
                ),
            ),
            (
                "document",
                (
                    _s("Set list", "Concert"),
                    _s("Stage plot and input list", "Concert"),
                ),
            ),
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class Look:
    """How a theme's previews look: a motif (drawn by :mod:`.previews`) and its colours.

    ``sky``/``ground`` are the gradient's top and bottom, ``accent`` the motif's main colour and
    ``ink`` its dark outline colour (RGB).
    """

    motif: str
    sky: tuple[int, int, int]
    ground: tuple[int, int, int]
    accent: tuple[int, int, int]
    ink: tuple[int, int, int]


LOOKS: dict[str, Look] = {
    "Paris Street Life 2019": Look("paris", (92, 120, 178), (226, 170, 150), (238, 200, 120), (36, 32, 52)),
    "Alpine Summer": Look("alps", (110, 170, 230), (120, 170, 90), (250, 250, 250), (60, 74, 96)),
    "Product Launch Berlin": Look("stage", (30, 22, 60), (70, 40, 110), (0, 200, 220), (12, 10, 24)),
    "Interviews — Season 2": Look("interview", (86, 60, 44), (150, 110, 80), (230, 190, 140), (30, 22, 18)),
    "Brand Audio Kit": Look("waves", (20, 30, 70), (60, 20, 90), (250, 120, 60), (10, 10, 30)),
    "Press Kit Documents": Look("press", (210, 220, 235), (160, 180, 210), (20, 70, 160), (20, 30, 60)),
    "Lyon Market Mornings": Look("market", (250, 220, 170), (200, 120, 70), (200, 40, 40), (70, 30, 20)),
    "Rome: Stone and Light": Look("rome", (240, 200, 130), (200, 130, 80), (236, 220, 190), (110, 60, 40)),
    "Munich Oktoberfest 2023": Look("fair", (120, 180, 240), (240, 240, 250), (30, 90, 200), (30, 40, 80)),
    "Coastal Drone Reels": Look("coast", (120, 200, 240), (20, 150, 170), (250, 240, 210), (60, 60, 70)),
    "Pets & Animals Stock": Look("pets", (250, 220, 160), (140, 190, 110), (170, 110, 60), (60, 40, 30)),
    "Wedding at Lake Como": Look("wedding", (250, 225, 230), (150, 190, 220), (230, 190, 90), (90, 70, 80)),
    "Office & Team Portraits": Look("office", (200, 210, 220), (120, 130, 150), (70, 110, 170), (40, 44, 56)),
    "Summer Concert Series": Look("concert", (30, 10, 50), (120, 20, 90), (255, 90, 200), (8, 4, 16)),
}
"""The look of each theme's previews, by album name; anything else (the bulk import) gets :data:`PLAIN`."""

PLAIN = Look("camera", (150, 150, 155), (90, 90, 100), (230, 230, 230), (30, 30, 36))
