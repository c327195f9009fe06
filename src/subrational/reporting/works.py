"""The works the shipped studies and the report's methods cite, as bibliography entries.

A study's ``human.json`` names its sources in free text ("Heffner & FeldmanHall (2022), Nature
Communications 13:1718; ..."). :mod:`.bibliography` splits such a text at ``;`` and matches each
part against the patterns below (first author and year, so "Kahneman & Tversky 1979" and
"Tversky & Kahneman 1992" stay apart); a part that matches no work here but names a year
becomes an entry of its own holding the text as written (a study of one's own is cited too).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Work", "WORKS", "PAPER", "METHODS"]


@dataclass(frozen=True)
class Work:
    """One citable work.

    Attributes:
        key: BibTeX key (``heffner2022``).
        kind: BibTeX entry type (``article``, ``book``, ``misc``).
        fields: BibTeX fields (author, title, journal, year, ...), values as printed.
        match: Regular expressions (case-sensitive) any of which, found in one ``;``-separated
            part of a citation text, means that part cites this work.
        short: How the page names it in a list ("Heffner & FeldmanHall 2022").
    """

    key: str
    kind: str
    fields: dict[str, str]
    match: tuple[str, ...]
    short: str = field(default="")


def _a(key: str, short: str, match: str, **fields: str) -> Work:
    return Work(key, "article", fields, (match,), short)


PAPER = Work("coletta2024", "misc", {
    "author": "Coletta, Andrea and Dwarakanath, Kshama and Liu, Penghang and Vyetrenko, Svitlana "
              "and Balch, Tucker",
    "title": "{LLM}-driven Imitation of Subrational Behavior: Illusion or Reality?",
    "year": "2024", "eprint": "2402.08755", "archivePrefix": "arXiv",
    "url": "https://arxiv.org/abs/2402.08755"}, (r"Coletta", r"2402\.08755"),
    "Coletta et al. 2024")

HOLM = _a("holm1979", "Holm 1979", r"Holm 1979",
          author="Holm, Sture", title="A simple sequentially rejective multiple test procedure",
          journal="Scandinavian Journal of Statistics", volume="6", number="2", pages="65--70",
          year="1979")

METHODS = (PAPER, HOLM)
"""Works the methods paragraph cites whatever the studies are."""

WORKS: tuple[Work, ...] = (
    PAPER, HOLM,
    _a("heffner2022", "Heffner & FeldmanHall 2022", r"Heffner.*2022",
       author="Heffner, Joseph and FeldmanHall, Oriel",
       title="A probabilistic map of emotional experiences during competitive social "
             "interactions", journal="Nature Communications", volume="13", pages="1718",
       year="2022"),
    _a("oosterbeek2004", "Oosterbeek, Sloof & van de Kuilen 2004", r"Oosterbeek.*2004",
       author="Oosterbeek, Hessel and Sloof, Randolph and van de Kuilen, Gijs",
       title="Cultural differences in ultimatum game experiments: Evidence from a "
             "meta-analysis", journal="Experimental Economics", volume="7", number="2",
       pages="171--188", year="2004"),
    Work("camerer2003", "book", {
        "author": "Camerer, Colin F.",
        "title": "Behavioral Game Theory: Experiments in Strategic Interaction",
        "publisher": "Princeton University Press", "year": "2003"},
        (r"Camerer.*2003",), "Camerer 2003"),
    _a("henrich2006", "Henrich et al. 2006", r"Henrich.*2006",
       author="Henrich, Joseph and others", title="Costly punishment across human societies",
       journal="Science", volume="312", number="5781", pages="1767--1770", year="2006"),
    _a("cameron1999", "Cameron 1999", r"Cameron.*1999",
       author="Cameron, Lisa A.",
       title="Raising the stakes in the ultimatum game: Experimental evidence from Indonesia",
       journal="Economic Inquiry", volume="37", number="1", pages="47--59", year="1999"),
    _a("andersen2011", "Andersen et al. 2011", r"Andersen.*2011",
       author="Andersen, Steffen and Ertac, Seda and Gneezy, Uri and Hoffman, Moshe and "
              "List, John A.", title="Stakes matter in ultimatum games",
       journal="American Economic Review", volume="101", number="7", pages="3427--3439",
       year="2011"),
    _a("fehr1999", "Fehr & Schmidt 1999", r"Fehr.*(1999|Schmidt)",
       author="Fehr, Ernst and Schmidt, Klaus M.",
       title="A theory of fairness, competition, and cooperation",
       journal="Quarterly Journal of Economics", volume="114", number="3", pages="817--868",
       year="1999"),
    _a("kidd2013", "Kidd, Palmeri & Aslin 2013", r"Kidd.*2013",
       author="Kidd, Celeste and Palmeri, Holly and Aslin, Richard N.",
       title="Rational snacking: Young children's decision-making on the marshmallow task is "
             "moderated by beliefs about environmental reliability", journal="Cognition",
       volume="126", number="1", pages="109--114", year="2013"),
    _a("lamm2018", "Lamm et al. 2018", r"Lamm.*2018",
       author="Lamm, Bettina and others",
       title="Waiting for the second treat: Developing culture-specific modes of "
             "self-regulation", journal="Child Development", volume="89", number="3",
       pages="e261--e277", year="2018"),
    _a("carlson2018", "Carlson et al. 2018", r"Carlson.*2018",
       author="Carlson, Stephanie M. and Shoda, Yuichi and Ayduk, Ozlem and Aber, Lawrence and "
              "Schaefer, Catherine and Sethi, Anita and Wilson, Nicole and Peake, Philip K. "
              "and Mischel, Walter", title="Cohort effects in children's delay of gratification",
       journal="Developmental Psychology", volume="54", number="8", pages="1395--1407",
       year="2018"),
    _a("imuta2014", "Imuta, Hayne & Scarf 2014", r"Imuta.*2014",
       author="Imuta, Kana and Hayne, Harlene and Scarf, Damian",
       title="I want it all and I want it now: Delay of gratification in preschool children",
       journal="Developmental Psychobiology", volume="56", number="7", pages="1541--1552",
       year="2014"),
    _a("watts2018", "Watts, Duncan & Quan 2018", r"Watts.*2018",
       author="Watts, Tyler W. and Duncan, Greg J. and Quan, Haonan",
       title="Revisiting the marshmallow test: A conceptual replication investigating links "
             "between early delay of gratification and later outcomes",
       journal="Psychological Science", volume="29", number="7", pages="1159--1177",
       year="2018"),
    _a("mischel1989", "Mischel, Shoda & Rodriguez 1989", r"Mischel(?!.*(2018|Carlson))",
       author="Mischel, Walter and Shoda, Yuichi and Rodriguez, Monica L.",
       title="Delay of gratification in children", journal="Science", volume="244",
       number="4907", pages="933--938", year="1989"),
    _a("kahneman1979", "Kahneman & Tversky 1979", r"Kahneman.*1979",
       author="Kahneman, Daniel and Tversky, Amos",
       title="Prospect theory: An analysis of decision under risk", journal="Econometrica",
       volume="47", number="2", pages="263--291", year="1979"),
    _a("tversky1992", "Tversky & Kahneman 1992", r"Tversky.*1992",
       author="Tversky, Amos and Kahneman, Daniel",
       title="Advances in prospect theory: Cumulative representation of uncertainty",
       journal="Journal of Risk and Uncertainty", volume="5", number="4", pages="297--323",
       year="1992"),
    _a("ruggeri2020", "Ruggeri et al. 2020", r"Ruggeri.*2020",
       author="Ruggeri, Kai and others",
       title="Replicating patterns of prospect theory for decision under risk",
       journal="Nature Human Behaviour", volume="4", number="6", pages="622--633", year="2020"),
    _a("peterson2021", "Peterson et al. 2021", r"Peterson.*2021",
       author="Peterson, Joshua C. and Bourgin, David D. and Agrawal, Mayank and Reichman, "
              "Daniel and Griffiths, Thomas L.",
       title="Using large-scale experiments and machine learning to discover theories of "
             "human decision-making", journal="Science", volume="372", number="6547",
       pages="1209--1214", year="2021"),
    _a("holt2002", "Holt & Laury 2002", r"Holt.*2002",
       author="Holt, Charles A. and Laury, Susan K.", title="Risk aversion and incentive effects",
       journal="American Economic Review", volume="92", number="5", pages="1644--1655",
       year="2002"),
    _a("thaler1990", "Thaler & Johnson 1990", r"Thaler.*1990",
       author="Thaler, Richard H. and Johnson, Eric J.",
       title="Gambling with the house money and trying to break even: The effects of prior "
             "outcomes on risky choice", journal="Management Science", volume="36",
       number="6", pages="643--660", year="1990"),
    _a("post2008", "Post et al. 2008", r"Post.*2008",
       author="Post, Thierry and van den Assem, Martijn J. and Baltussen, Guido and Thaler, "
              "Richard H.",
       title="Deal or no deal? Decision making under risk in a large-payoff game show",
       journal="American Economic Review", volume="98", number="1", pages="38--71",
       year="2008"),
    _a("kuzilek2017", "Kuzilek, Hlosta & Zdrahal 2017", r"Kuzilek.*2017",
       author="Kuzilek, Jakub and Hlosta, Martin and Zdrahal, Zdenek",
       title="Open University Learning Analytics dataset", journal="Scientific Data",
       volume="4", pages="170171", year="2017"),
    _a("solomon1984", "Solomon & Rothblum 1984", r"Solomon.*1984",
       author="Solomon, Laura J. and Rothblum, Esther D.",
       title="Academic procrastination: Frequency and cognitive-behavioral correlates",
       journal="Journal of Counseling Psychology", volume="31", number="4", pages="503--509",
       year="1984"),
    _a("steel2007", "Steel 2007", r"Steel.*2007",
       author="Steel, Piers",
       title="The nature of procrastination: A meta-analytic and theoretical review of "
             "quintessential self-regulatory failure", journal="Psychological Bulletin",
       volume="133", number="1", pages="65--94", year="2007"),
    _a("kim2015", "Kim & Seo 2015", r"Kim.*2015",
       author="Kim, Kyung Ryung and Seo, Eun Hee",
       title="The relationship between procrastination and academic performance: A "
             "meta-analysis", journal="Personality and Individual Differences", volume="82",
       pages="26--33", year="2015"),
    _a("augenblick2015", "Augenblick, Niederle & Sprenger 2015", r"Augenblick.*2015",
       author="Augenblick, Ned and Niederle, Muriel and Sprenger, Charles",
       title="Working over time: Dynamic inconsistency in real effort tasks",
       journal="Quarterly Journal of Economics", volume="130", number="3", pages="1067--1115",
       year="2015"),
    _a("augenblick2019", "Augenblick & Rabin 2019", r"Augenblick.*2019",
       author="Augenblick, Ned and Rabin, Matthew",
       title="An experiment on time preference and misprediction in unpleasant tasks",
       journal="Review of Economic Studies", volume="86", number="3", pages="941--975",
       year="2019"),
    _a("laibson1997", "Laibson 1997", r"Laibson.*1997",
       author="Laibson, David", title="Golden eggs and hyperbolic discounting",
       journal="Quarterly Journal of Economics", volume="112", number="2", pages="443--477",
       year="1997"),
    _a("ariely2002", "Ariely & Wertenbroch 2002", r"Ariely.*2002",
       author="Ariely, Dan and Wertenbroch, Klaus",
       title="Procrastination, deadlines, and performance: Self-control by precommitment",
       journal="Psychological Science", volume="13", number="3", pages="219--224", year="2002"),
    _a("papke1996", "Papke & Wooldridge 1996", r"Papke.*1996",
       author="Papke, Leslie E. and Wooldridge, Jeffrey M.",
       title="Econometric methods for fractional response variables with an application to "
             "401(k) plan participation rates", journal="Journal of Applied Econometrics",
       volume="11", number="6", pages="619--632", year="1996"),
)
