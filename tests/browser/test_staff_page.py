"""The staff page's journeys in headless Chromium, against the real Flask app serving the built bundle; each runs
axe-core's WCAG 2.1 A/AA checks on the page it ends with.

Expected answers come from the pipeline's own outputs (ml/plots/pca_map.csv: each customer's segment; ml/personas.json),
not from the API, so a page or API that shows the wrong segment fails.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import Browser, FloatRect, Locator, Page, Route, ViewportSize, expect

from stages import config
from stages.dataset import LABEL_CODES
from stages.names import ALGORITHM_NAMES, MOST_BUY_NONE, percents, whole
from stages.segmenter import Segmenter
from tests.mixture import uneven_mixture

from .conftest import DESKTOP, PHONE, Watch, accessibility_problems, screenshots, serving, watched_page

pytestmark = pytest.mark.browser

FEATURES = ["Fresh", "Milk", "Grocery", "Frozen", "Detergents_Paper", "Delicassen"]


@pytest.fixture(scope="module")
def personas() -> list[dict[str, Any]]:
    """ml/personas.json, by segment id."""
    return sorted(json.loads(config.PERSONAS.read_text()), key=lambda p: p["id"])


@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    """The training customers the model clustered, with the segment the pipeline gave each one."""
    points = pd.read_csv(config.PCA_MAP)
    return points[points["clustered"].astype(bool)].reset_index(drop=True)


def api_json(page: Page, path: str) -> Any:
    """GET an API document outside the page (not counted as a page request)."""
    response = page.request.get(path)
    assert response.ok, f"{path}: {response.status}"
    return response.json()


def spending_input(page: Page, fields: list[dict[str, Any]], name: str):
    """The form's input for a category, found by its visible label as GET /api/fields words it."""
    label = next(f["label"] for f in fields if f["name"] == name)
    return page.get_by_label(re.compile(rf"^{re.escape(label)}\b"))


def fill_customer(page: Page, fields: list[dict[str, Any]], values: dict[str, Any]) -> None:
    """Type one customer's spending into the form."""
    for name in FEATURES:
        spending_input(page, fields, name).fill(str(values[name]))


def mark_empty_live_regions(page: Page) -> None:
    """Mark the live regions (``role=status``, ``aria-live``) that are in the page now and empty, for
    :func:`assert_in_a_live_region_that_was_empty`."""
    page.evaluate("""() => {
        for (const region of document.querySelectorAll("[role=status], [aria-live]")) {
            if (region.textContent.trim() === "") region.dataset.wasEmpty = "";
        }
    }""")


def assert_in_a_live_region_that_was_empty(text: Locator) -> None:
    """``text`` sits in a live region that was already in the page, empty, when :func:`mark_empty_live_regions` ran:
    screen readers announce a change of text in such a region, and often say nothing of one inserted with its text."""
    assert text.evaluate("""(element) => {
        const region = element.closest("[role=status], [aria-live]");
        return region !== null && "wasEmpty" in region.dataset;
    }"""), "the text came in a live region inserted with it, not in one that was in the page, empty, before"


def config_label(column: str, code: int) -> str:
    """The words for a Channel or Region code, as the data set's documentation gives them."""
    return LABEL_CODES[column][code]


def test_segment_a_customer_and_see_the_persona(page: Page, customers: pd.DataFrame, personas: list[dict[str, Any]]) -> None:
    """Typing a real customer's spending shows its segment's persona, confidence, distances and the map."""
    fields = api_json(page, "/api/fields")
    health = api_json(page, "/api/health")
    pca = api_json(page, "/api/pca")
    customer = customers[customers["segment"] == customers["segment"].max()].iloc[0]
    expected = personas[int(customer["segment"])]

    fill_customer(page, fields["features"], {name: int(customer[name]) for name in FEATURES})
    page.get_by_label("Channel").select_option(config_label("Channel", int(customer["Channel"])))
    page.get_by_role("button", name="Find the segment").click()

    heading = page.locator("#answer-title")
    expect(heading).to_have_text(re.compile(rf"Segment {expected['id']}: {re.escape(expected['name'])}"))
    expect(heading).to_be_focused()
    answer = page.locator("article.answer")
    expect(answer).to_contain_text(expected["description"])
    for action in expected["actions"]:
        expect(answer.get_by_text(action, exact=True)).to_be_visible()
    for name, level in expected["levels"].items():
        if level != "typical":
            expect(answer.locator(".standouts")).to_contain_text(next(f["label"] for f in fields["features"] if f["name"] == name))
    expect(answer.locator(".confidence")).to_contain_text(re.compile(r"Confidence \d+% \((high|medium|low)\)"))
    distances = answer.locator(".distances li")
    expect(distances).to_have_count(len(personas))
    expect(distances.nth(expected["id"])).to_contain_text("(nearest)")
    expect(answer.locator(".map-svg g[aria-hidden] > circle")).to_have_count(len(pca["points"]))
    expect(answer.locator(".map-svg .centre")).to_have_count(len(personas))
    expect(answer.locator(".map-svg .customer")).to_contain_text("This customer")

    # The map says what its two directions mean, in words, and keeps its axis words inside the picture.
    kept = round(100 * (pca["explained_variance"][0] + pca["explained_variance"][1]))
    expect(answer.locator(".map figcaption .hint")).to_contain_text(f"the map keeps {kept}% of the differences between customers")
    expect(answer.locator(".map-axes")).to_have_text(f"Further right: {pca['axis_meaning']['x']}. Further up: {pca['axis_meaning']['y']}.")
    expect(answer.locator(".map-svg")).not_to_contain_text("PC1")

    footer = page.locator("footer")
    expect(footer.locator("code")).to_have_text(health["model_version"][:12])
    expect(footer).to_contain_text(f"({ALGORITHM_NAMES[health['algorithm']]}, {health['k']} segments)")
    expect(footer.get_by_role("link", name="Read the full report")).to_have_count(1 if fields["report_available"] else 0)
    assert accessibility_problems(page) == []
    screenshots(page, "segment-one-customer")
    sizes: tuple[ViewportSize, ...] = ({"width": 1280, "height": 900}, {"width": 360, "height": 800})
    for size in sizes:
        page.set_viewport_size(size)
        svg = answer.locator(".map-svg").bounding_box()
        for i in range(2):
            box = answer.locator(".map-svg .axis-label").nth(i).bounding_box()
            assert svg is not None and box is not None  # both on screen
            inside = svg["x"] <= box["x"] and box["x"] + box["width"] <= svg["x"] + svg["width"] + 0.5 and svg["y"] <= box["y"] and box["y"] + box["height"] <= svg["y"] + svg["height"] + 0.5
            assert inside, f"axis label {i} leaves the map at {size['width']} px: {box} vs {svg}"


def test_channel_and_region_are_said_not_to_find_the_segment_and_are_compared_with_it(
    page: Page, customers: pd.DataFrame, personas: list[dict[str, Any]]
) -> None:
    """Channel and Region are not used to find the segment, and their hints say so (a salesperson choosing them would
    otherwise expect another answer); the answer says how many of the segment share them, in the card's percents."""
    fields = api_json(page, "/api/fields")
    for label in ("Channel", "Region"):
        expect(page.get_by_label(label)).to_have_accessible_description(re.compile(r"^Not used to find the segment"))
    customer = customers.iloc[0]
    expected = personas[int(customer["segment"])]
    channel, region = config_label("Channel", int(customer["Channel"])), config_label("Region", int(customer["Region"]))
    fill_customer(page, fields["features"], {name: int(customer[name]) for name in FEATURES})
    page.get_by_label("Channel").select_option(channel)
    page.get_by_label("Region").select_option(region)
    page.get_by_role("button", name="Find the segment").click()
    expect(page.locator("#answer-title")).to_have_text(re.compile(rf"Segment {expected['id']}:"))
    share = {
        group: dict(zip(expected[group], percents(list(expected[group].values())), strict=True)) for group in ("channel_mix", "region_mix")
    }
    expect(page.locator(".shared-labels")).to_have_text(
        f"Of the segment's customers, {share['channel_mix'][channel]} share this customer's channel ({channel})"
        f" and {share['region_mix'][region]} its region ({region})."
    )
    page.get_by_label("Channel").select_option("Not known")
    page.get_by_label("Region").select_option("Not known")
    page.get_by_role("button", name="Find the segment").click()
    expect(page.locator("#answer-title")).to_be_focused()
    expect(page.locator(".shared-labels")).to_have_count(0)
    assert accessibility_problems(page) == []


def test_the_answer_and_the_cards_speak_without_the_analysts_words(page: Page, customers: pd.DataFrame) -> None:
    """Sales staff read the answer, the map and the cards: no principal components, fitting, clusters or imputing."""
    fields = api_json(page, "/api/fields")
    fill_customer(page, fields["features"], {name: int(customers.iloc[0][name]) for name in FEATURES})
    page.get_by_role("button", name="Find the segment").click()
    expect(page.locator("#answer-title")).to_be_focused()
    for button in page.locator(".persona-card button.expander").all():
        button.click()
    text = page.locator("main").inner_text().lower()
    found = [w for w in ("principal component", "pca", "fitted", "cluster", "centroid", "imput") if w in text]
    assert found == [], f"the page speaks of {found} to sales staff"


def test_a_mixture_model_shows_each_segments_probability_and_which_centre_is_nearest(
    browser: Browser, gmm_base_url: str, personas: list[dict[str, Any]]
) -> None:
    """Served a Gaussian mixture, the page shows each segment's probability, never calls the customer's segment the
    nearest when another centre is nearer (the model weighs each segment's spread too), and names the second most
    probable segment, not the second-nearest centre, as the alternative."""
    model = uneven_mixture(Segmenter.load(config.SEGMENTER))
    X = np.exp(np.random.default_rng(5).uniform(0, np.log(200_000), size=(2_000, len(FEATURES)))).round()
    expected = model.assign(X)
    assert expected.probabilities is not None  # a mixture's answer has them
    by_distance = np.argsort(expected.distances, axis=1, kind="stable")
    nearest = by_distance[:, 0]
    nearest_other = np.where(nearest == expected.segment, by_distance[:, 1], nearest)
    second = np.argsort(-expected.probabilities, axis=1, kind="stable")[:, 1]
    farther = np.flatnonzero(expected.segment != nearest)  # the segment is not the nearest centre
    # the page names an alternative (not for an atypical customer, whose confidence it reads as saying little)
    unsure = np.flatnonzero((expected.confidence < 0.6) & (second != nearest_other) & ~model.atypical(expected.distances.min(axis=1)))
    assert len(farther) and len(unsure), "tests.mixture no longer gives the customers this test needs: adjust WIDE and NARROW"
    i, u = int(farther[0]), int(unsure[0])

    watch = Watch(origin=gmm_base_url)
    with watched_page(browser, gmm_base_url, watch) as page:
        fields = api_json(page, "/api/fields")
        answer = page.locator("article.answer")

        def segment(row: int) -> int:
            fill_customer(page, fields["features"], {name: int(X[row, j]) for j, name in enumerate(FEATURES)})
            page.get_by_role("button", name="Find the segment").click()
            s = int(expected.segment[row])
            expect(page.locator("#answer-title")).to_have_text(re.compile(rf"Segment {s}: {re.escape(personas[s]['name'])}"))
            return s

        s = segment(i)
        shown = answer.locator(".probabilities li")
        expect(shown).to_have_count(len(personas))
        expect(shown.nth(s)).to_contain_text("(most probable)")
        probabilities_shown_add_up(answer, expected.probabilities[i], s)
        distances = answer.locator(".distances li")
        expect(distances.nth(int(nearest[i]))).to_contain_text("(nearest)")
        expect(distances.nth(s)).not_to_contain_text("(nearest)")
        expect(answer.locator(".distances .hint")).to_contain_text("need not be the nearest")
        assert accessibility_problems(page) == []
        screenshots(page, "segment-one-customer-mixture")

        segment(u)
        expect(answer.locator(".confidence")).to_contain_text(f"It could also be “{personas[int(second[u])]['name']}”")

        # a customer whose probabilities, each rounded on its own, would read more than 100% in all
        odd = next(r for r in range(len(X)) if sum(round(100 * p) for p in expected.probabilities[r]) != 100)
        probabilities_shown_add_up(answer, expected.probabilities[odd], segment(odd))


PERCENT = re.compile(r"(<1|>99|\d+)%$")


def probabilities_shown_add_up(answer: Locator, probabilities: np.ndarray, s: int) -> None:
    """Each probability bar reads its probability rounded down or up (``<1%`` / ``>99%`` strictly inside 0 and 1), the
    bars add up to 100%, and the confidence line shows the customer's segment's bar."""
    bars = answer.locator(".probabilities .bar-value")
    expect(bars).to_have_count(len(probabilities))
    texts = [t.strip() for t in bars.all_inner_texts()]
    assert_parts_of_a_whole(texts, probabilities)
    expect(answer.locator(".confidence-level")).to_contain_text(f"Confidence {texts[s]} (")
    expect(answer.locator(".confidence")).to_contain_text(f"a {texts[s]} chance")


def assert_parts_of_a_whole(texts: list[str], shares: Any) -> None:
    """``texts`` show ``shares`` (parts of one whole) as percents that add up to 100: each share rounded down or up,
    and ``<1%`` / ``>99%`` exactly for a share strictly inside 0 and 1 that rounds to 0 / 100."""
    points = []
    for text, share in zip(texts, shares, strict=True):
        match = PERCENT.fullmatch(text)
        assert match, f"share {share} shown as {text!r}"
        value = {"<1": 0, ">99": 100}[match.group(1)] if match.group(1) in ("<1", ">99") else int(match.group(1))
        assert abs(value - 100 * share) < 1, f"share {share} shown as {text}"
        assert (match.group(1) == "<1") == (value == 0 and share > 0), f"share {share} shown as {text}"
        assert (match.group(1) == ">99") == (value == 100 and share < 1), f"share {share} shown as {text}"
        points.append(value)
    assert sum(points) == 100, f"the shares shown, {texts}, add up to {sum(points)}%"


def test_every_bad_amount_is_shown_at_once_in_the_apis_words_before_sending(page: Page, customers: pd.DataFrame) -> None:
    """Amounts the API would refuse (text, negative, above the maximum GET /api/fields publishes) next to one the page
    asks about (1.200): every field's message shows at once, under its field, worded as the API words it for the same
    value (a tiny negative too: -1e-05, not the -0.00001 typed), and nothing is sent (the API's errors used to come
    only once the page's own were fixed: two rounds)."""
    fields = api_json(page, "/api/fields")["features"]
    values = {name: int(customers.iloc[0][name]) for name in FEATURES}
    maximum = next(f["max_allowed"] for f in fields if f["name"] == "Frozen")
    bad = {"Fresh": "1.200", "Milk": "-5", "Grocery": "abc", "Frozen": f"{int(maximum) * 2:,}", "Delicassen": "-0.00001"}
    refused = page.request.post("/api/segment", data={"Milk": -5, "Grocery": "abc", "Frozen": int(maximum) * 2, "Delicassen": -0.00001})
    assert refused.status == 422
    api_words = {e["field"]: e["message"] for e in refused.json()["error"]["errors"]}
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url) if request.method == "POST" else None)
    fill_customer(page, fields, {**values, **bad})
    page.get_by_role("button", name="Find the segment").click()

    for name in bad:
        field = page.locator(".field").filter(has=spending_input(page, fields, name))
        expect(field.locator(".field-error")).to_have_text(api_words.get(name, re.compile(r"^is ambiguous: 1,200 or 1\.2\?")))
        expect(spending_input(page, fields, name)).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".field-error")).to_have_count(len(bad))
    expect(spending_input(page, fields, "Fresh")).to_be_focused()
    expect(page.locator("#answer-title")).to_have_count(0)
    assert sent == []
    assert accessibility_problems(page) == []

    fill_customer(page, fields, values)
    page.get_by_role("button", name="Find the segment").click()
    expect(page.locator("#answer-title")).to_be_visible()
    expect(page.locator(".field-error")).to_have_count(0)


def test_correcting_a_field_takes_its_error_away_and_the_summary_names_only_the_rest(page: Page, customers: pd.DataFrame) -> None:
    """A field's message and aria-invalid go once staff change it (a corrected amount must not still read as wrong, to a
    screen reader least of all); the summary above the form names the fields left, and goes with the last of them."""
    fields = api_json(page, "/api/fields")["features"]
    labels = {f["name"]: f["label"] for f in fields}
    values = {name: int(customers.iloc[0][name]) for name in FEATURES}
    fill_customer(page, fields, {**values, "Milk": "-5", "Grocery": "abc"})
    page.get_by_role("button", name="Find the segment").click()
    summary = page.locator(".form-error")
    expect(summary).to_have_text(f"The customer's data is not valid: check {labels['Milk']}, {labels['Grocery']}.")

    spending_input(page, fields, "Milk").fill(str(values["Milk"]))
    expect(spending_input(page, fields, "Milk")).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator(".field").filter(has=spending_input(page, fields, "Milk")).locator(".field-error")).to_have_count(0)
    expect(spending_input(page, fields, "Grocery")).to_have_attribute("aria-invalid", "true")
    expect(summary).to_have_text(f"The customer's data is not valid: check {labels['Grocery']}.")

    spending_input(page, fields, "Grocery").fill(str(values["Grocery"]))
    expect(page.locator(".field-error")).to_have_count(0)
    expect(summary).to_have_count(0)
    assert accessibility_problems(page) == []


def send_answered_by_a_422(page: Page, watch: Watch, customers: pd.DataFrame, field: str, message: str) -> list[dict[str, Any]]:
    """Send the first training customer through the form, answered by a 422 whose one error names ``field`` with
    ``message``; the form's fields as GET /api/fields gives them."""
    watch.expect_status(422)
    fields = api_json(page, "/api/fields")["features"]
    body = {"error": {"message": "The customer's data is not valid.", "errors": [{"field": field, "row": None, "message": message}]}}
    page.route("**/api/segment", lambda route: route.fulfill(status=422, content_type="application/json", body=json.dumps(body)))
    fill_customer(page, fields, {name: int(customers.iloc[0][name]) for name in FEATURES})
    page.get_by_role("button", name="Find the segment").click()
    return fields


def test_the_apis_error_for_a_field_is_shown_next_to_the_field(page: Page, watch: Watch, customers: pd.DataFrame) -> None:
    """The API stays the authority: its 422 for an amount the page let through (a rule the page does not know) is
    shown under that field, which takes the focus."""
    fields = send_answered_by_a_422(page, watch, customers, "Milk", "must be a multiple of 5")
    milk = spending_input(page, fields, "Milk")
    expect(page.locator(".field").filter(has=milk).locator(".field-error")).to_have_text("must be a multiple of 5")
    expect(milk).to_have_attribute("aria-invalid", "true")
    expect(milk).to_be_focused()
    expect(page.locator(".field-error")).to_have_count(1)
    expect(page.locator("#answer-title")).to_have_count(0)
    assert accessibility_problems(page) == []


def test_amounts_typed_as_the_page_shows_them(page: Page, customers: pd.DataFrame) -> None:
    """The placeholders show amounts as 12,669: typed so (or with spaces) they are read as numbers; a hexadecimal
    0x10 is not read as 16 but refused under its field, and a long refused text wraps at phone width."""
    fields = api_json(page, "/api/fields")["features"]
    customer = customers.iloc[0]
    values = {name: int(customer[name]) for name in FEATURES}
    typed = {name: f"{v:,}" if j % 2 else f"{v:,}".replace(",", "\u00a0") for j, (name, v) in enumerate(values.items())}
    assert any("," in t for t in typed.values()), "the test needs an amount of 1,000 or more"
    fill_customer(page, fields, typed)
    page.get_by_role("button", name="Find the segment").click()
    expected = int(customer["segment"])
    expect(page.locator("#answer-title")).to_have_text(re.compile(rf"^\s*Segment {expected}:"))
    answer = page.request.post("/api/segment", data=values).json()
    expect(page.locator(".confidence-level")).to_contain_text(f"Confidence {round(100 * answer['confidence'])}%")

    page.set_viewport_size({"width": 375, "height": 812})
    fill_customer(page, fields, {**values, "Fresh": "0x10", "Milk": "x" * 300})
    page.get_by_role("button", name="Find the segment").click()
    for name, words in (("Fresh", "not text '0x10'"), ("Milk", "not text 'xxxx")):
        expect(page.locator(".field").filter(has=spending_input(page, fields, name)).locator(".field-error")).to_contain_text(words)
    expect(page.locator("#answer-title")).to_have_count(0)
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 375, f"the page is {scroll_width} px wide at phone width with the errors shown: it scrolls sideways"

    # digits too long for a number (1e400 is Infinity, which JSON would carry as null): stopped on the page, in the
    # API's words for an amount over its limit, with the field focused; the other field's old error is gone
    fill_customer(page, fields, {**values, "Fresh": "1e400"})
    page.get_by_role("button", name="Find the segment").click()
    fresh_error = page.locator(".field").filter(has=spending_input(page, fields, "Fresh")).locator(".field-error")
    expect(fresh_error).to_have_text("must be at most 10,000,000 (got 1e400)")
    expect(page.locator(".field-error")).to_have_count(1)
    expect(spending_input(page, fields, "Fresh")).to_be_focused()
    assert accessibility_problems(page) == []


def test_a_blank_category_is_filled_in_and_says_so(page: Page, customers: pd.DataFrame) -> None:
    """Milk left blank: the answer says it was filled in with the median of the training customers, and the amount (it
    said "the typical value from the data" whatever params data.impute was), as the form's line and Milk's hint say
    before sending; where Milk sets the segment apart, the customer's Milk figure there is marked as filled in with the
    median, not shown as if the customer had given it."""
    published = api_json(page, "/api/fields")
    fields = published["features"]
    milk = next(f for f in fields if f["name"] == "Milk")
    assert published["impute"]["method"] == "median" and published["impute"]["values"]["Milk"] == milk["median"]
    filled = whole(milk["median"])
    expect(page.locator("#segment-intro")).to_have_text(
        "Yearly spending per category. A category left blank is filled in with the median of the training customers.")
    expect(spending_input(page, fields, "Milk")).to_have_accessible_description(re.compile(
        rf"Leave blank if unknown: filled in with the median, {re.escape(filled)}\.$"))
    expect(spending_input(page, fields, "Milk")).to_have_attribute("placeholder", filled)
    for _, customer in customers.iterrows():
        values = {name: int(customer[name]) for name in FEATURES if name != "Milk"}
        answer = page.request.post("/api/segment", data=values).json()
        if answer["persona"]["levels"]["Milk"] != "typical":
            break
    else:
        pytest.fail("no customer whose segment, with Milk filled in, stands out in Milk")
    assert answer["imputed"] == ["Milk"]
    fill_customer(page, fields, {**values, "Milk": ""})
    page.get_by_role("button", name="Find the segment").click()
    result = page.locator("article.answer")
    expect(page.locator("#answer-title")).to_have_text(re.compile(rf"Segment {answer['segment']}:"))
    expect(result.locator(".note")).to_have_text(
        f"Not given, so filled in with the median of the training customers: {milk['label']} ({filled}).")
    standout = result.locator(".standouts li").filter(has_text=milk["label"])
    expect(standout).to_contain_text(f"(this customer: {filled}, filled in with the median)")
    shown = re.search(r"\(this customer: ([\d,]+), filled in with the median\)", standout.inner_text())
    assert shown and abs(int(shown.group(1).replace(",", "")) - answer["input"]["Milk"]) <= 0.5, standout.inner_text()
    for name in FEATURES:
        if name != "Milk" and answer["persona"]["levels"][name] != "typical":
            label = next(f["label"] for f in fields if f["name"] == name)
            expect(result.locator(".standouts li").filter(has_text=label)).not_to_contain_text("filled in")
    assert accessibility_problems(page) == []


def test_a_restart_with_another_model_reloads_the_page_data(browser: Browser, tmp_path: Path) -> None:
    """The server is restarted with other artifacts while the page is open: the first answer from the new model
    says so (in a live region that was in the page, empty, before: one inserted with its text is often not announced),
    and the footer, the segments and the map are fetched again (the footer kept the old version)."""
    from api import create_app
    from tests.mixture import mixture_artifacts

    old, new = create_app(), create_app({"ARTIFACTS_ROOT": mixture_artifacts(tmp_path / "gmm")})
    served = {"app": old}

    def switchable(environ: dict[str, Any], start_response: Any) -> Any:
        return served["app"](environ, start_response)

    with serving(switchable) as url:  # type: ignore[arg-type]
        watch = Watch(origin=url)
        with watched_page(browser, url, watch) as page:
            footer = page.locator("footer code")
            before = api_json(page, "/api/health")["model_version"]
            expect(footer).to_have_text(before[:12])
            served["app"] = new  # "restarted" with the mixture's artifacts
            after = api_json(page, "/api/health")["model_version"]
            assert after != before
            fields = api_json(page, "/api/fields")["features"]
            fill_customer(page, fields, {name: 1000 for name in FEATURES})
            mark_empty_live_regions(page)
            page.get_by_role("button", name="Find the segment").click()
            notice = page.get_by_text("The service now answers with another model")
            expect(notice).to_contain_text(f"another model (version {after[:12]})")
            assert_in_a_live_region_that_was_empty(notice)
            expect(footer).to_have_text(after[:12])
            expect(page.locator("footer")).to_contain_text("(Gaussian mixture, ")
            assert accessibility_problems(page) == []


def test_open_a_persona_card(page: Page, personas: list[dict[str, Any]]) -> None:
    """Each segment has a card; its button (keyboard too) opens the spending profile and the Channel and Region mix.
    A card says its size and share once, where its description opens (it had a size line above the description that
    said the same: "216 customers, 49% of the base" then "216 customers (49% of the base).")."""
    cards = page.locator(".persona-card")
    expect(cards).to_have_count(len(personas))
    texts = cards.all_inner_texts()
    for text, p in zip(texts, personas, strict=True):
        assert text.count(f"{p['size']:,} customers") == 1 and text.count("of the base") == 1, text
        assert p["description"].startswith(f"{p['size']:,} customers (") and p["description"] in text
    shares = [cast("re.Match[str]", re.search(r"\((\S+) of the base\)", t)).group(1) for t in texts]  # each card says its share
    assert_parts_of_a_whole(shares, [p["share"] for p in personas])
    persona = personas[-1]
    card = cards.filter(has_text=persona["name"])
    button = card.get_by_role("button", name=re.compile("spending profile"))
    panel = card.locator(".persona-detail")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(panel).to_be_hidden()

    button.focus()
    outline = button.evaluate("b => [getComputedStyle(b).outlineStyle, parseFloat(getComputedStyle(b).outlineWidth)]")
    assert outline[0] != "none" and outline[1] >= 2, f"keyboard focus on the card's button is not visible: {outline}"
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(panel).to_be_visible()
    expect(panel.locator("table.profile tbody tr")).to_have_count(len(persona["profile"]))
    # the shipped data have no category most customers buy none of: the hint says nothing of one (see the test after)
    assert persona["most_buy_none"] == []
    expect(panel.locator(".hint")).not_to_contain_text(MOST_BUY_NONE)
    expect(panel.locator("table.profile tbody tr svg")).to_have_count(len(persona["profile"]))
    for group in ("channel_mix", "region_mix"):
        mix = persona[group]
        texts = [panel.locator(".mix li").filter(has_text=name).locator(".bar-value").inner_text().strip() for name in mix]
        assert_parts_of_a_whole(texts, mix.values())
    assert accessibility_problems(page) == []

    page.keyboard.press("Space")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(panel).to_be_hidden()


def test_a_category_most_customers_buy_none_of_shows_the_segments_median_not_a_ratio(
    browser: Browser, unbought_base_url: str, customers: pd.DataFrame
) -> None:
    """Where most customers buy no frozen food (a base median of 0, counted as 1), the segment that buys it read
    "the segment buys 2108.50× the typical customer" and drew a bar at the end of the scale. The card shows its
    median with "most customers buy none" and no bar; the answer says the segment's median and this customer's amount."""
    from stages.names import whole
    from tests.mixture import BUYS_FROZEN

    watch = Watch(origin=unbought_base_url)
    with watched_page(browser, unbought_base_url, watch) as page:
        personas = api_json(page, "/api/clusters")["personas"]
        fields = api_json(page, "/api/fields")["features"]
        label = next(f["label"] for f in fields if f["name"] == "Frozen")
        persona = personas[BUYS_FROZEN]
        median = whole(persona["centre"]["Frozen"])
        card = page.locator(".persona-card").nth(BUYS_FROZEN)
        card.get_by_role("button", name=re.compile("spending profile")).click()
        row = card.locator("table.profile tbody tr").filter(has_text=label)
        expect(row).to_have_text(re.compile(rf"{re.escape(label)}\s*{re.escape(median)}\s*most customers buy none$"))
        expect(row.locator("svg")).to_have_count(0)
        expect(card.locator("table.profile tbody tr svg")).to_have_count(len(persona["profile"]) - 1)
        expect(card.locator(".persona-detail .hint")).to_contain_text("left out where most customers buy none")
        assert "2108.50×" not in card.inner_text() and f"{persona['profile']['Frozen']:.2f}×" not in card.inner_text()

        member = customers[customers["segment"] == BUYS_FROZEN].iloc[0]
        values = {name: int(member[name]) for name in FEATURES}
        fill_customer(page, fields, values)
        page.get_by_role("button", name="Find the segment").click()
        expect(page.locator("#answer-title")).to_have_text(re.compile(rf"^\s*Segment {BUYS_FROZEN}:"))
        line = page.locator(".standouts li").filter(has_text=label)
        expect(line).to_have_text(re.compile(
            rf"^High {re.escape(label)}: the segment's median is {re.escape(median)} a year, where most customers buy none "
            rf"\(this customer: {values['Frozen']:,}\)$"))
        assert accessibility_problems(page) == []


def downloaded_rows(page: Page, tmp_path: Path) -> list[dict[str, str]]:
    """Click *Download the results (CSV)* and read the saved file's rows."""
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download the results (CSV)").click()
    saved = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(saved)
    data = saved.read_bytes()
    # UTF-8 with its mark first, so that Excel opened by a double-click reads accented names right
    assert data.startswith(codecs.BOM_UTF8) and not data.startswith(codecs.BOM_UTF8 * 2)
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_batch_csv_with_one_bad_row(page: Page, tmp_path: Path, customers: pd.DataFrame, personas: list[dict[str, Any]]) -> None:
    """A CSV with one bad row: the good rows are segmented, the bad one named, counts shown, results downloadable."""
    good = customers.groupby("segment").head(1).sort_values("segment")
    rows: list[dict[str, Any]] = [{c: int(r[c]) for c in ["Channel", "Region", *FEATURES]} for _, r in good.iterrows()]
    bad_row = {**rows[0], "Milk": "lots"}
    rows.insert(1, bad_row)
    expected = [int(s) for s in good["segment"]]
    expected_by_row = {1: expected[0], **{i + 3: s for i, s in enumerate(expected[1:])}}
    upload = tmp_path / "customers.csv"
    with upload.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    page.get_by_label("CSV file").set_input_files(upload)
    page.get_by_role("button", name="Segment the file").click()
    expect(page.locator(".summary")).to_have_text(f"{len(rows)} rows: {len(expected)} segmented, 1 with a problem.")
    table = page.locator("table.rows tbody tr")
    expect(table).to_have_count(len(rows))
    for row, segment in expected_by_row.items():
        expect(table.nth(row - 1)).to_contain_text(personas[segment]["name"])
    expect(table.nth(1)).to_contain_text("Not segmented")
    expect(table.nth(1)).to_contain_text("Milk")
    for segment in set(expected):
        count_row = page.locator("table.counts tbody tr").filter(has_text=personas[segment]["name"])
        expect(count_row.locator("td")).to_have_text(str(expected.count(segment)))
    # A spreadsheet numbers the header as its row 1: the page says which row its row 1 is.
    expect(page.get_by_role("region", name="Result for each row of the file")).to_have_accessible_description(
        re.compile(r"^Row 1 is the first customer, on the line after the header")
    )
    assert accessibility_problems(page) == []
    screenshots(page, "batch")

    out = downloaded_rows(page, tmp_path)
    assert len(out) == len(rows)
    for row, segment in expected_by_row.items():
        assert out[row - 1]["segment"] == str(segment), out[row - 1]
        assert out[row - 1]["error"] == ""
        assert out[row - 1]["Fresh"] == str(rows[row - 1]["Fresh"])
    assert out[1]["segment"] == ""
    assert "Milk" in out[1]["error"]


def test_an_excel_csv_from_windows_is_read_and_its_names_keep_their_accents(page: Page, tmp_path: Path, customers: pd.DataFrame) -> None:
    """Excel on Windows saves "CSV" in Windows-1252 with ";" in Portugal: every row with an accented customer name was
    refused ("not valid UTF-8 text"). The file is scored, the page says how it was read, the names show as written,
    and the download (UTF-8, with the mark Excel needs) carries them."""
    good = customers.head(2)
    names = ["João Lda", "Café Príncipe"]
    lines = [";".join(["Cliente", *FEATURES])] + [";".join([n, *(str(int(r[c])) for c in FEATURES)]) for n, (_, r) in zip(names, good.iterrows(), strict=True)]
    upload = tmp_path / "clientes.csv"
    upload.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    page.get_by_label("CSV file").set_input_files(upload)
    page.get_by_role("button", name="Segment the file").click()
    expect(page.locator(".summary")).to_have_text("2 rows: 2 segmented, 0 with a problem.")
    expect(page.locator(".encoding")).to_have_text("Read as Windows-1252 text, as Excel saves CSV on Windows; the download is UTF-8.")
    expect(page.locator("table.rows tbody tr td:nth-of-type(1)")).to_have_text(names)
    assert accessibility_problems(page) == []
    out = downloaded_rows(page, tmp_path)
    assert [(r["Cliente"], r["segment"]) for r in out] == [(n, str(int(s))) for n, s in zip(names, good["segment"], strict=True)]


def test_a_file_with_a_customer_number_is_scored_and_the_download_carries_it(page: Page, tmp_path: Path, customers: pd.DataFrame) -> None:
    """A sales export with a customer number was refused as a whole ("unknown column Customer"); now it is scored,
    the page says the column was not used, shows it beside each row's number, and the download carries it."""
    good = customers.head(3)
    upload = tmp_path / "export.csv"
    with upload.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Customer", *FEATURES])
        writer.writerows([[f"C-{i:03d}", *(int(r[c]) for c in FEATURES)] for i, (_, r) in enumerate(good.iterrows(), start=1)])
    page.get_by_label("CSV file").set_input_files(upload)
    page.get_by_role("button", name="Segment the file").click()
    expect(page.locator(".summary")).to_have_text("3 rows: 3 segmented, 0 with a problem.")
    expect(page.locator(".ignored-columns")).to_have_text("Not used to segment, and copied to the download unchanged: Customer.")
    # the customer number beside each row's number, so a result can be told apart without the download
    expect(page.locator("table.rows thead th")).to_have_text(["Row", "Customer", "Segment or problem", "Confidence"])
    expect(page.locator("table.rows tbody tr td:nth-of-type(1)")).to_have_text(["C-001", "C-002", "C-003"])
    assert accessibility_problems(page) == []
    out = downloaded_rows(page, tmp_path)
    assert [(r["Customer"], r["segment"]) for r in out] == [(f"C-{i:03d}", str(int(s))) for i, s in enumerate(good["segment"], start=1)]


def test_a_large_file_shows_its_first_rows_and_keeps_the_focus(page: Page, watch: Watch, tmp_path: Path) -> None:
    """2,500 rows (a bad one past the first 1,000): the table shows 1,000 and says the download has the rest and the
    hidden problem; focus moves to the summary (the button that had it was disabled); a download that fails, then
    works, leaves no stale error. A refused file puts the focus on the file input."""
    watch.expect_status(503)
    watch.expect_status(422)
    upload = tmp_path / "many.csv"
    lines = [",".join(FEATURES)] + [f"{1000 + i},2000,3000,400,500,{i % 900}" for i in range(2_500)]
    lines[1_800] = "1,2,lots,4,5,6"  # data row 1,800
    upload.write_text("\n".join(lines) + "\n")
    page.get_by_label("CSV file").set_input_files(upload)
    page.get_by_label("CSV file").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    summary = page.locator(".summary")
    # 2,500 rows to score and 1,000 to draw: more than the 5 s a check waits by default on a loaded 2-core machine
    expect(summary).to_have_text("2,500 rows: 2,499 segmented, 1 with a problem.", timeout=30_000)
    expect(summary).to_be_focused()
    expect(page.locator("table.rows tbody tr")).to_have_count(1000)
    # the focused summary is what is read; a live region round the results would read out 1,000 rows as well
    assert page.locator("table.rows").evaluate("t => t.closest('[aria-live], [role=status], [role=alert]')") is None
    expect(page.locator(".rows-cut")).to_have_text(
        "Showing the first 1,000 of 2,500 rows; the download has every row, including 1 more with a problem (see its error column).")

    page.route("**/api/segment/batch?format=csv", lambda route: route.fulfill(status=503, content_type="application/json",
               body='{"error": {"status": 503, "title": "Service Unavailable", "message": "Try again.", "errors": []}}'))
    page.get_by_role("button", name="Download the results (CSV)").click()
    expect(page.locator("#batch .field-error")).to_contain_text("could not be downloaded")
    page.unroute("**/api/segment/batch?format=csv")
    with page.expect_download():
        page.get_by_role("button", name="Download the results (CSV)").click()
    expect(page.locator("#batch .field-error")).to_have_count(0)

    refused = tmp_path / "refused.csv"
    refused.write_text("Fresh,Milk,Foo\n1,2,3\n")
    page.get_by_label("CSV file").set_input_files(refused)
    page.get_by_role("button", name="Segment the file").click()
    expect(page.locator("#batch .field-error")).to_contain_text("Foo")
    expect(page.get_by_label("CSV file")).to_be_focused()
    assert accessibility_problems(page) == []


def test_batch_answer_for_a_file_no_longer_chosen_is_dropped(page: Page, tmp_path: Path) -> None:
    """Choose A, send it, choose B while A is on its way: A's late answer is dropped, and B's table and Download are B's."""
    files = {}
    for name, n in (("a.csv", 2), ("b.csv", 3)):
        path = tmp_path / name
        path.write_text(",".join(FEATURES) + "\n" + "".join(f"{100 * n + i},1,1,1,1,{i}\n" for i in range(n)))
        files[name] = path
    held: list[Route] = []

    def hold_first(route: Any) -> None:
        if held:
            route.continue_()
        else:
            held.append(route)  # A's request waits here until the test lets it through

    page.route("**/api/segment/batch", hold_first)
    page.get_by_label("CSV file").set_input_files(files["a.csv"])
    page.get_by_role("button", name="Segment the file").click()
    expect(page.get_by_role("button", name="Segmenting…")).to_be_visible()
    for _ in range(100):  # the route handler runs while Playwright waits
        if held:
            break
        page.wait_for_timeout(50)
    assert len(held) == 1

    page.get_by_label("CSV file").set_input_files(files["b.csv"])
    with page.expect_response("**/api/segment/batch") as late:
        held[0].continue_()
    late.value.finished()
    page.wait_for_timeout(300)  # time for the page to read and (wrongly) show A's answer
    expect(page.locator(".batch-result")).to_have_count(0)

    page.get_by_role("button", name="Segment the file").click()
    expect(page.locator(".summary")).to_have_text("3 rows: 3 segmented, 0 with a problem.")
    expect(page.locator("table.rows tbody tr")).to_have_count(3)

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download the results (CSV)").click()
    assert download_info.value.suggested_filename == "b-segments.csv"
    saved = tmp_path / "out.csv"
    download_info.value.save_as(saved)
    with saved.open(newline="") as f:
        assert [r["Fresh"] for r in csv.DictReader(f)] == ["300", "301", "302"]  # B's rows, as sent again
        assert accessibility_problems(page) == []


def test_amounts_with_points_that_may_group_thousands_are_asked_about_not_misread(page: Page, customers: pd.DataFrame) -> None:
    """Typed the Portuguese way (12.669 for 12,669), an amount read as a decimal would segment a customer a thousand
    times smaller without a word: the page stops it under its field, offers both readings, and sends nothing."""
    fields = api_json(page, "/api/fields")["features"]
    values = {name: int(customers.iloc[0][name]) for name in FEATURES}
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url) if request.method == "POST" else None)
    fill_customer(page, fields, {**values, "Milk": "1.200", "Grocery": "12.669", "Fresh": f"€{values['Fresh']:,}"})
    page.get_by_role("button", name="Find the segment").click()
    milk, grocery = (spending_input(page, fields, n) for n in ("Milk", "Grocery"))
    expect(page.locator(".field").filter(has=milk).locator(".field-error")).to_have_text(
        "is ambiguous: 1,200 or 1.2? For 1,200, type 1200 or 1,200; for 1.2, type 1.2")
    expect(page.locator(".field").filter(has=grocery).locator(".field-error")).to_contain_text("12,669 or 12.669?")
    labels = {f["name"]: f["label"] for f in fields}
    expect(page.locator(".field").filter(has=spending_input(page, fields, "Fresh")).locator(".field-error")).to_have_text(
        f"type the amount without the currency sign: {values['Fresh']:,}")
    expect(page.locator(".form-error")).to_have_text(
        f"The customer's data is not valid: check {labels['Fresh']}, {labels['Milk']}, {labels['Grocery']}.")
    expect(spending_input(page, fields, "Fresh")).to_be_focused()
    expect(milk).to_have_value("1.200")  # what was typed is kept
    assert sent == [] and page.locator("#answer-title").count() == 0
    assert accessibility_problems(page) == []

    milk.fill("1200")
    grocery.fill("12,669")
    spending_input(page, fields, "Fresh").fill(f"{values['Fresh']:,}")
    page.get_by_role("button", name="Find the segment").click()
    answer = page.request.post("/api/segment", data={**values, "Milk": 1200, "Grocery": 12669}).json()
    expect(page.locator("#answer-title")).to_have_text(re.compile(rf"^\s*Segment {answer['segment']}:"))
    expect(page.locator(".field-error")).to_have_count(0)


def test_errors_name_the_fields_as_the_form_labels_them_and_an_empty_form_is_one_message(page: Page, customers: pd.DataFrame) -> None:
    """An error for the field Detergents_Paper: the summary uses the form's label. An empty form is told once what is
    missing, without a request and without six identical errors."""
    fields = api_json(page, "/api/fields")["features"]
    labels = {f["name"]: f["label"] for f in fields}
    assert labels["Detergents_Paper"] != "Detergents_Paper"
    values = {name: int(customers.iloc[0][name]) for name in FEATURES}
    fill_customer(page, fields, {**values, "Detergents_Paper": -1})
    page.get_by_role("button", name="Find the segment").click()
    expect(page.locator(".form-error")).to_have_text(f"The customer's data is not valid: check {labels['Detergents_Paper']}.")

    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url) if request.method == "POST" else None)
    page.get_by_role("button", name="Clear").click()
    page.get_by_role("button", name="Find the segment").click()
    expect(page.locator(".form-error")).to_have_text(
        "Type the customer's yearly spending in at least one category: the segment is found from the spending.")
    expect(page.locator(".form-error")).to_be_focused()
    expect(page.locator(".field-error")).to_have_count(0)
    assert sent == []
    assert accessibility_problems(page) == []


def test_a_server_that_does_not_answer_releases_the_form_and_keeps_what_was_typed(browser: Browser, base_url: str, customers: pd.DataFrame) -> None:
    """A request that hangs: while it waits a status says so; after the page's 15 seconds (on Playwright's clock) the
    form says the service did not answer, keeps every amount and can send again."""
    watch = Watch(origin=base_url)
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    page.on("pageerror", lambda error: watch.page_errors.append(str(error)))
    page.clock.install()
    held: list[Any] = []
    page.route("**/api/segment", lambda route: held.append(route))  # never answered
    page.goto("/")
    fields = api_json(page, "/api/fields")["features"]
    values = {name: int(customers.iloc[0][name]) for name in FEATURES}
    fill_customer(page, fields, values)
    page.get_by_role("button", name="Find the segment").click()
    expect(page.get_by_role("button", name="Segmenting…")).to_be_disabled()
    expect(page.locator("form [role=status]")).to_have_text("Finding the segment…")
    page.clock.run_for(14_000)
    expect(page.get_by_role("button", name="Segmenting…")).to_be_disabled()  # still waiting at 14 s
    page.clock.run_for(2_000)
    expect(page.locator(".form-error")).to_have_text(
        "The segmentation service did not answer within 15 seconds. Nothing you typed is lost: try again, or tell whoever runs the service.")
    expect(page.get_by_role("button", name="Find the segment")).to_be_enabled()
    expect(page.locator("form [role=status]")).to_have_text("")
    for name in FEATURES:
        expect(spending_input(page, fields, name)).to_have_value(str(values[name]))
    assert len(held) == 1 and watch.page_errors == []
    assert accessibility_problems(page) == []
    context.close()


def test_an_answer_to_details_since_changed_says_so(page: Page, customers: pd.DataFrame) -> None:
    """Change an amount after the answer (or while it is on its way): the answer is marked as being for the old
    details until the form is sent again, in a live region that was in the page, empty, before the note (one inserted
    with its text is often not announced)."""
    fields = api_json(page, "/api/fields")["features"]
    values = {name: int(customers.iloc[0][name]) for name in FEATURES}
    fill_customer(page, fields, values)
    page.get_by_role("button", name="Find the segment").click()
    expect(page.locator("#answer-title")).to_be_visible()
    stale = page.locator(".stale-note")
    expect(stale).to_have_count(0)
    mark_empty_live_regions(page)
    spending_input(page, fields, "Milk").fill("100")
    expect(stale).to_have_text("The details have changed since this answer was given: press “Find the segment” for an answer to them.")
    assert_in_a_live_region_that_was_empty(stale)
    page.get_by_role("button", name="Find the segment").click()
    expect(stale).to_have_count(0)
    expect(page.locator("#answer-title")).to_be_focused()
    mark_empty_live_regions(page)
    page.get_by_label("Channel").select_option(label="Retail")
    expect(stale).to_be_visible()
    assert_in_a_live_region_that_was_empty(stale)

    held: list[Any] = []
    page.route("**/api/segment", lambda route: held.append(route))
    page.get_by_role("button", name="Find the segment").click()
    expect(stale).to_have_count(0)
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    spending_input(page, fields, "Milk").fill("200")  # while the answer is on its way
    held[0].continue_()
    expect(page.get_by_role("button", name="Find the segment")).to_be_enabled()
    expect(stale).to_be_visible()
    assert accessibility_problems(page) == []


def test_a_part_of_the_page_that_failed_to_load_can_be_tried_again(browser: Browser, base_url: str) -> None:
    """GET /api/fields fails once (503): the page says so and offers Try again, which (from the keyboard) brings the
    form and puts the focus on its heading (the alert went with the button and left the focus on the page's body)."""
    watch = Watch(origin=base_url)
    watch.expect_status(503)
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    page.on("console", watch.on_console)
    failed: list[str] = []

    def fail_once(route: Any) -> None:
        if failed:
            route.continue_()
        else:
            failed.append(route.request.url)
            route.fulfill(status=503, content_type="text/html", body="<h1>Service Unavailable</h1>")

    page.route("**/api/fields", fail_once)
    page.goto("/")
    alert = page.locator(".alert[role=alert]")
    expect(alert).to_contain_text("Part of the page could not be loaded: The segmentation service did not answer through the server in front "
                                  "of it (503 Service Unavailable): it may be restarting or stopped.")
    expect(page.get_by_text("Loading the form…")).to_be_visible()
    assert accessibility_problems(page) == []
    page.get_by_role("button", name="Try again").press("Enter")
    expect(page.get_by_role("button", name="Find the segment")).to_be_visible()
    expect(alert).to_have_count(0)
    expect(page.get_by_role("heading", name="Segment a customer")).to_be_focused()
    page.keyboard.press("Tab")
    expect(spending_input(page, api_json(page, "/api/fields")["features"], FEATURES[0])).to_be_focused()
    assert len(failed) == 1 and watch.console_errors == []
    context.close()


def malformed(body: dict[str, Any], served: list[str] | None = None) -> Any:
    """A route handler answering 200 with ``body``: valid JSON in a shape the page does not expect (``served`` counts the answers)."""

    def answer(route: Any) -> None:
        if served is not None:
            served.append(route.request.url)
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    return answer


def segment_first_customer(page: Page, customers: pd.DataFrame, personas: list[dict[str, Any]]) -> tuple[dict[str, Any], Any, Any]:
    """Segment the first training customer through the form: its expected persona, the answer's heading (checked to
    name that persona) and the answer."""
    fields = api_json(page, "/api/fields")["features"]
    customer = customers.iloc[0]
    expected = personas[int(customer["segment"])]
    fill_customer(page, fields, {name: int(customer[name]) for name in FEATURES})
    page.get_by_role("button", name="Find the segment").click()
    heading = page.locator("#answer-title")
    expect(heading).to_have_text(re.compile(rf"Segment {expected['id']}: {re.escape(expected['name'])}"))
    return expected, heading, page.locator("article.answer")


def score_two_customers(page: Page, tmp_path: Path, customers: pd.DataFrame) -> None:
    """Score a file of the first two training customers through the file form."""
    upload = tmp_path / "two.csv"
    upload.write_text(",".join(FEATURES) + "\n" + "\n".join(",".join(str(int(customers.iloc[r][n])) for n in FEATURES) for r in (0, 1)) + "\n")
    page.get_by_label("CSV file").set_input_files(upload)
    page.get_by_role("button", name="Segment the file").click()


def assert_no_error_text(page: Page) -> None:
    """The page shows staff no error text or stack trace, only its own words."""
    text = page.locator("body").inner_text()
    for raw in ("TypeError", "is not a function", "Cannot read properties", "    at ", "app.js"):
        assert raw not in text, f"the page shows error text {raw!r}"


def test_a_section_that_cannot_be_drawn_fails_alone_and_can_be_tried_again(
    page: Page, watch: Watch, tmp_path: Path, customers: pd.DataFrame, personas: list[dict[str, Any]]
) -> None:
    """GET /api/clusters answers personas whose actions are not a list: the segments say, in words and without error
    text, that they could not be shown, and offer Try again; segmenting a customer and scoring a file still work. Try
    again while the answer is still wrong keeps the message; once the service answers properly it brings the cards
    back, and the answer and the file's results stay."""
    watch.expect_caught_error("is not a function")  # React's console.error for the caught error
    good = api_json(page, "/api/clusters")
    # the page's first load must be over before the route is set, or its own request is served and counted too
    expect(page.locator("#personas .persona-card")).to_have_count(len(good["personas"]))
    served: list[str] = []
    page.route("**/api/clusters", malformed({**good, "personas": [{**p, "actions": "Call them"} for p in good["personas"]]}, served))
    page.reload()
    section = page.locator("#personas")
    alert = section.get_by_role("alert")
    expect(alert).to_contain_text("The segments could not be shown: something went wrong while reading what the service sent.")
    expect(alert).to_contain_text("The rest of the page still works.")
    expect(section.get_by_role("heading", name="The segments")).to_be_visible()
    expect(section.locator(".persona-card")).to_have_count(0)

    expected, heading, answer = segment_first_customer(page, customers, personas)
    expect(answer.get_by_text(expected["actions"][0], exact=True)).to_be_visible()
    expect(answer.locator(".map-svg")).to_be_visible()
    score_two_customers(page, tmp_path, customers)
    summary = page.locator(".summary")
    expect(summary).to_have_text("2 rows: 2 segmented, 0 with a problem.")
    expect(page.get_by_role("alert")).to_have_count(1)  # only the segments failed
    assert watch.caught_errors, "the error the segments caught was not logged to the console"
    assert watch.page_errors == []
    assert_no_error_text(page)
    assert accessibility_problems(page) == []
    screenshots(page, "section-failed")

    alert.get_by_role("button", name="Try again").click()  # the service still answers wrongly
    for _ in range(100):
        if len(served) > 1:
            break
        page.wait_for_timeout(50)
    assert len(served) == 2, "Try again did not fetch the segments again"
    expect(alert).to_contain_text("The segments could not be shown")
    expect(section.locator(".persona-card")).to_have_count(0)

    page.unroute("**/api/clusters")
    alert.get_by_role("button", name="Try again").click()
    expect(section.locator(".persona-card")).to_have_count(len(personas))
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(heading).to_have_text(re.compile(rf"Segment {expected['id']}: {re.escape(expected['name'])}"))
    expect(summary).to_have_text("2 rows: 2 segmented, 0 with a problem.")
    assert watch.page_errors == []


def test_segments_that_are_not_a_list_are_a_load_error_and_a_file_is_still_scored(
    page: Page, watch: Watch, tmp_path: Path, customers: pd.DataFrame, personas: list[dict[str, Any]]
) -> None:
    """GET /api/clusters answers personas that are not a list: the page says once that the segments could not be read
    (the file section used to fail once a file was scored, losing its result), a file is still scored, and Try again
    brings the segments back once the service answers properly, with the focus on their heading."""
    good = api_json(page, "/api/clusters")
    expect(page.locator("#personas .persona-card")).to_have_count(len(good["personas"]))
    page.route("**/api/clusters", malformed({**good, "personas": {str(p["id"]): p for p in good["personas"]}}))
    page.reload()
    alert = page.locator(".alert[role=alert]")
    expect(alert).to_contain_text("Part of the page could not be loaded: The segments came in a shape this page cannot read.")
    score_two_customers(page, tmp_path, customers)
    expect(page.locator(".summary")).to_have_text("2 rows: 2 segmented, 0 with a problem.")
    expect(page.get_by_role("alert")).to_have_count(1)  # no section failed
    assert watch.page_errors == [] and watch.console_errors == []
    assert_no_error_text(page)
    assert accessibility_problems(page) == []

    page.unroute("**/api/clusters")
    alert.get_by_role("button", name="Try again").press("Enter")
    expect(page.locator("#personas .persona-card")).to_have_count(len(personas))
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.get_by_role("heading", name="The segments")).to_be_focused()
    expect(page.locator(".summary")).to_have_text("2 rows: 2 segmented, 0 with a problem.")


@pytest.mark.parametrize("broken", ["without points", "points without coordinates"])
def test_a_map_that_cannot_be_drawn_leaves_the_answer_and_can_be_tried_again(
    page: Page, watch: Watch, customers: pd.DataFrame, personas: list[dict[str, Any]], broken: str
) -> None:
    """GET /api/pca answers without its points, or with points that have no coordinates (which drew dots at NaN
    without a word): the answer (persona, actions, confidence) and the form stay, the map says it could not be shown,
    and Try again (from the keyboard) draws it once the service answers properly, with the focus on the map's heading
    (the button went with the message and left the focus on the page's body)."""
    watch.expect_caught_error("in a shape the page cannot draw")  # React's console.error for the caught error
    pca = api_json(page, "/api/pca")
    if broken == "without points":
        body = {key: value for key, value in pca.items() if key != "points"}
    else:
        body = {**pca, "points": [{"segment": p["segment"]} for p in pca["points"]]}
    page.route("**/api/pca", malformed(body))
    page.reload()
    expected, heading, answer = segment_first_customer(page, customers, personas)
    alert = answer.get_by_role("alert")
    expect(alert).to_contain_text("The map of customers could not be shown")
    expect(answer.get_by_text(expected["actions"][0], exact=True)).to_be_visible()
    expect(answer.locator(".confidence")).to_contain_text("Confidence")
    expect(answer.locator(".map-svg")).to_have_count(0)
    expect(page.get_by_role("button", name="Find the segment")).to_be_visible()
    expect(page.locator(".persona-card")).to_have_count(len(personas))
    assert watch.caught_errors, "the error the map caught was not logged to the console"
    assert_no_error_text(page)
    assert accessibility_problems(page) == []

    page.unroute("**/api/pca")
    alert.get_by_role("button", name="Try again").press("Enter")
    expect(answer.locator(".map-svg g[aria-hidden] > circle")).to_have_count(len(pca["points"]))
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(answer.get_by_role("heading", name=f"Where this customer sits among all {len(pca['points'])} customers")).to_be_focused()
    expect(heading).to_have_text(re.compile(rf"Segment {expected['id']}: {re.escape(expected['name'])}"))
    assert watch.page_errors == []


def test_the_form_drawn_again_after_it_failed_keeps_what_was_typed(
    page: Page, watch: Watch, customers: pd.DataFrame, personas: list[dict[str, Any]]
) -> None:
    """An answer that passes the page's check but breaks the section itself (``imputed`` a text, not a list, outside
    the map's own boundary): the section says it could not be shown; Try again (from the keyboard) draws the form again
    with the amounts, Channel and Region as typed (they were lost: the form's state lived in the section) and the
    focus on its heading (it was left on the page's body), and the form sends them."""
    watch.expect_caught_error("is not a function")  # React's console.error for the caught error
    fields = api_json(page, "/api/fields")["features"]
    customer = customers.iloc[0]
    values = {name: str(int(customer[name])) for name in FEATURES}
    answer = page.request.post("/api/segment", data={name: int(v) for name, v in values.items()}).json()
    page.route("**/api/segment", malformed({**answer, "imputed": "Milk"}))
    fill_customer(page, fields, values)
    channel, region = config_label("Channel", int(customer["Channel"])), config_label("Region", int(customer["Region"]))
    page.get_by_label("Channel").select_option(channel)
    page.get_by_label("Region").select_option(region)
    page.get_by_role("button", name="Find the segment").click()
    section = page.locator("#segment")
    alert = section.get_by_role("alert")
    expect(alert).to_contain_text("The form to segment a customer could not be shown")
    expect(section.locator("input")).to_have_count(0)
    assert watch.caught_errors, "the error the section caught was not logged to the console"
    assert_no_error_text(page)

    page.unroute("**/api/segment")
    alert.get_by_role("button", name="Try again").press("Enter")
    expect(alert).to_have_count(0)
    # the focus goes to the section's heading (it fell to the page's body with the button), and Tab to the first amount
    expect(section.get_by_role("heading", name="Segment a customer")).to_be_focused()
    page.keyboard.press("Tab")
    expect(spending_input(page, fields, FEATURES[0])).to_be_focused()
    for name in FEATURES:
        expect(spending_input(page, fields, name)).to_have_value(values[name])
    expect(page.get_by_label("Channel")).to_have_value(channel)
    expect(page.get_by_label("Region")).to_have_value(region)
    page.get_by_role("button", name="Find the segment").click()
    expected = personas[int(customer["segment"])]
    expect(page.locator("#answer-title")).to_have_text(re.compile(rf"Segment {expected['id']}: {re.escape(expected['name'])}"))
    assert watch.page_errors == []
    assert accessibility_problems(page) == []


def test_the_file_section_drawn_again_after_it_failed_keeps_the_chosen_file(
    page: Page, watch: Watch, tmp_path: Path, customers: pd.DataFrame
) -> None:
    """A file's answer in a shape the file section cannot draw (``results`` not a list): the section says it could not
    be shown; Try again draws it again with the focus on its heading and the chosen file still in its input (an input
    drawn anew is empty, and the file had to be chosen again), and the file is scored."""
    watch.expect_caught_error("is not a function")  # React's console.error for the caught error
    page.route("**/api/segment/batch", malformed({"n_rows": 2, "n_ok": 2, "n_errors": 0, "counts": {}, "results": {}}))
    score_two_customers(page, tmp_path, customers)
    section = page.locator("#batch")
    alert = section.get_by_role("alert")
    expect(alert).to_contain_text("The form to score a file could not be shown")
    assert watch.caught_errors, "the error the section caught was not logged to the console"

    page.unroute("**/api/segment/batch")
    alert.get_by_role("button", name="Try again").click()
    expect(alert).to_have_count(0)
    expect(section.get_by_role("heading", name="Score a file of customers")).to_be_focused()
    chosen = page.get_by_label("CSV file")
    assert chosen.evaluate("input => [...input.files].map((f) => f.name)") == ["two.csv"]
    page.get_by_role("button", name="Segment the file").click()
    expect(page.locator(".summary")).to_have_text("2 rows: 2 segmented, 0 with a problem.")
    assert watch.page_errors == []
    assert accessibility_problems(page) == []


def test_a_customer_unlike_any_segment_is_told_so_not_called_a_border_case(page: Page, tmp_path: Path, customers: pd.DataFrame) -> None:
    """A real customer's spending typed in thousands (12.67 for 12,669): the nearest persona is shown, with a warning
    that the customer is unlike the segments and a low confidence reading whatever its figure; a real customer gets
    neither. A file with the same two rows marks only the second."""
    fields = api_json(page, "/api/fields")["features"]
    real = {name: int(customers.iloc[0][name]) for name in FEATURES}
    thousands = {name: round(v / 1000, 2) for name, v in real.items()}
    answer = page.request.post("/api/segment", data=thousands).json()
    assert answer["atypical"] is True and page.request.post("/api/segment", data=real).json()["atypical"] is False

    fill_customer(page, fields, real)
    page.get_by_role("button", name="Find the segment").click()
    expect(page.locator("#answer-title")).to_be_visible()
    expect(page.locator(".alert.atypical")).to_have_count(0)

    fill_customer(page, fields, thousands)
    page.get_by_role("button", name="Find the segment").click()
    expect(page.locator("#answer-title")).to_have_text(re.compile(rf"^\s*Segment {answer['segment']}:"))
    warning = page.locator(".alert.atypical")
    expect(warning).to_contain_text("This customer is unlike the customers the segments were built from.")
    expect(warning).to_contain_text(f"“{answer['persona']['name']}” is only the nearest segment")
    expect(page.locator(".confidence-level")).to_contain_text("(low)")
    expect(page.locator(".confidence")).to_contain_text("far from every segment, so the figure says little")
    expect(page.locator(".confidence")).not_to_contain_text("on the border")
    assert accessibility_problems(page) == []

    path = tmp_path / "two.csv"
    path.write_text(",".join(FEATURES) + "\n" + "\n".join(",".join(str(c[n]) for n in FEATURES) for c in (real, thousands)) + "\n")
    page.get_by_label("CSV file").set_input_files(path)
    page.get_by_role("button", name="Segment the file").click()
    rows = page.locator("table.rows tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator(".atypical-mark")).to_have_count(0)
    expect(rows.nth(1).locator(".atypical-mark")).to_have_text("Unlike any segment: check the amounts.")
    expect(rows.nth(1).locator("td.num")).to_have_text(f"{round(100 * answer['confidence'])}% (low)")
    expect(rows.nth(0).locator("td.num")).to_have_text(re.compile(r"^\d+% \((high|medium|low)\)$"))


def boxes_overlap(a: FloatRect, b: FloatRect | None) -> bool:
    assert b is not None  # an element on screen
    return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_answer_tells_the_segments_figure_from_the_customers_and_the_map_label_hides_no_centre(
    page: Page, customers: pd.DataFrame, personas: list[dict[str, Any]], size: str
) -> None:
    """Where the segment stands out, the line gives the segment's ratio and this customer's own amount and ratio
    (against the same typical customer); on the map, "This customer" is never written over a numbered centre, and
    stays inside the map's frame, also at phone width (where the type is larger: it was placed for the desktop's
    and ran past the map's right edge, cut off as "This custom")."""
    page.set_viewport_size(PHONE if size == "phone" else DESKTOP)
    fields = api_json(page, "/api/fields")["features"]
    medians = {f["name"]: f["median"] for f in fields}
    labels = {f["name"]: f["label"] for f in fields}
    checked = 0
    for row in range(8):
        values = {name: int(customers.iloc[row][name]) for name in FEATURES}
        fill_customer(page, fields, values)
        page.get_by_role("button", name="Find the segment").click()
        persona = personas[int(customers.iloc[row]["segment"])]
        expect(page.locator("#answer-title")).to_have_text(re.compile(rf"^\s*Segment {persona['id']}:"))
        for name, level in persona["levels"].items():
            if level == "typical":
                continue
            line = page.locator(".standouts li").filter(has_text=labels[name])
            ratio, own = persona["profile"][name], values[name] / medians[name]
            expect(line).to_contain_text(f"the segment buys {ratio:.2f}× the typical customer (this customer: {values[name]:,}, {own:.2f}×)")
            checked += 1
        label = page.locator(".customer-label").bounding_box()
        centres = page.locator(".map-svg .centre circle")
        expect(centres).to_have_count(len(personas))
        assert label is not None  # on screen
        hidden = [i for i in range(len(personas)) if boxes_overlap(label, centres.nth(i).bounding_box())]
        assert hidden == [], f"row {row + 1}: the label covers centre {hidden}"
        frame = page.locator(".map-svg > rect").bounding_box()
        assert frame is not None  # on screen
        assert frame["x"] <= label["x"] and label["x"] + label["width"] <= frame["x"] + frame["width"], f"row {row + 1}: the label runs out of the map"
    assert checked, "no customer whose segment stands out in a category"
    assert accessibility_problems(page) == []


def test_an_answer_the_page_cannot_read_is_an_error_not_a_blank_page(page: Page, watch: Watch, customers: pd.DataFrame) -> None:
    """A 200 without the answer's fields (a proxy's, an older service's): the form says so and keeps the amounts."""
    fields = api_json(page, "/api/fields")["features"]
    values = {name: int(customers.iloc[0][name]) for name in FEATURES}
    page.route("**/api/segment", lambda route: route.fulfill(status=200, content_type="application/json", body="{}"))
    fill_customer(page, fields, values)
    page.get_by_role("button", name="Find the segment").click()
    expect(page.locator(".form-error")).to_have_text(
        "The service answered with something this page cannot read. Nothing you typed is lost: try again, or tell whoever runs the service.")
    expect(page.locator("#answer-title")).to_have_count(0)
    expect(page.get_by_role("heading", name="Segment a customer")).to_be_visible()
    for name in FEATURES:
        expect(spending_input(page, fields, name)).to_have_value(str(values[name]))
    assert watch.page_errors == []
    assert accessibility_problems(page) == []


@pytest.mark.parametrize("width", [DESKTOP["width"], 320])
def test_an_opened_cards_profile_fits_inside_the_card(page: Page, personas: list[dict[str, Any]], width: int) -> None:
    """Each card's spending profile stays inside its card, at the desktop's three cards a row (5rem bars made the
    table 21 px wider than a card there) and at 320 px (a 1280 px screen zoomed to 400%, WCAG 1.4.10)."""
    page.set_viewport_size({"width": width, "height": DESKTOP["height"]})
    buttons = page.locator(".persona-card button.expander")
    expect(buttons).to_have_count(len(personas))  # the cards are drawn once GET /api/clusters answers: .all() does not wait
    for button in buttons.all():
        button.click()
    expect(page.locator(".persona-card table.profile")).to_have_count(len(personas))
    overflows = page.locator(".persona-card").evaluate_all("""cards => cards.map((card) => {
        const style = getComputedStyle(card);
        const inner = card.getBoundingClientRect().right - parseFloat(style.borderRightWidth) - parseFloat(style.paddingRight);
        return Math.max(0, Math.round(card.querySelector("table.profile").getBoundingClientRect().right - inner));
    })""")
    assert overflows == [0] * len(personas), f"the profile tables overrun their cards' content by {overflows} px"
    under = page.locator(".ratio-cell").evaluate_all(
        "cells => cells.filter((c) => c.querySelector('svg').getBoundingClientRect().right > c.querySelector('.bar-value').getBoundingClientRect().left).length"
    )
    assert under == 0, f"{under} profile bars are drawn under their figure"


def test_card_buttons_and_filled_in_categories_are_named_for_people(page: Page, tmp_path: Path, personas: list[dict[str, Any]]) -> None:
    """Each card's button names its segment (screen readers list them apart); a file's filled-in categories are
    named by the form's labels, not the data set's column names."""
    for persona in personas:
        # Nothing after the name: the drawn arrow (▸, ▾) is not read out as "black right-pointing small triangle".
        button = page.get_by_role("button", name=f"Show spending profile and mix of {persona['name']}", exact=True)
        expect(button).to_have_count(1)
        button.click()
        expect(page.get_by_role("button", name=f"Hide spending profile and mix of {persona['name']}", exact=True)).to_have_count(1)
    labels = {f["name"]: f["label"] for f in api_json(page, "/api/fields")["features"]}
    assert labels["Detergents_Paper"] != "Detergents_Paper"
    path = tmp_path / "gap.csv"
    path.write_text(",".join(FEATURES) + "\n12669,9656,7561,214,,1338\n")
    page.get_by_label("CSV file").set_input_files(path)
    page.get_by_role("button", name="Segment the file").click()
    filled = whole(api_json(page, "/api/fields")["impute"]["values"]["Detergents_Paper"])
    expect(page.locator("table.rows tbody tr")).to_contain_text(
        f"Filled in with the median of the training customers: {labels['Detergents_Paper']} ({filled}).")
    assert accessibility_problems(page) == []


def test_where_the_service_fills_in_no_blank_the_form_says_so_and_a_blank_is_refused_before_sending(
    browser: Browser, no_impute_base_url: str, customers: pd.DataFrame
) -> None:
    """Served as params data.impute: error leaves it, the API refuses a category left out (422), where the page said
    blanks were filled with the typical value. The form says blanks are not allowed, every field's hint says it is
    required, a blank field is an error under it in the API's words without a request, an empty form is still one
    message, and the API's own 422 for a blank is shown under the field as before."""
    watch = Watch(origin=no_impute_base_url)
    with watched_page(browser, no_impute_base_url, watch) as page:
        published = api_json(page, "/api/fields")
        assert published["impute"] is None
        fields = published["features"]
        labels = {f["name"]: f["label"] for f in fields}
        values = {name: int(customers.iloc[0][name]) for name in FEATURES}
        refused = page.request.post("/api/segment", data={n: v for n, v in values.items() if n != "Milk"})
        assert refused.status == 422
        api_words = next(e["message"] for e in refused.json()["error"]["errors"] if e["field"] == "Milk")

        expect(page.locator("#segment-intro")).to_have_text(
            "Yearly spending per category. Blanks are not allowed: this service fills in no category, so type every one.")
        for name in FEATURES:
            expect(spending_input(page, fields, name)).to_have_accessible_description(re.compile(r"Required: blanks are not allowed\.$"))
            expect(spending_input(page, fields, name)).not_to_have_attribute("placeholder", re.compile("."))
        assert "filled in" not in page.locator("#segment").inner_text().lower()

        sent: list[str] = []
        page.on("request", lambda request: sent.append(request.url) if request.method == "POST" else None)
        fill_customer(page, fields, {**values, "Milk": "", "Frozen": " "})
        page.get_by_role("button", name="Find the segment").click()
        expect(page.locator(".form-error")).to_have_text(f"The customer's data is not valid: check {labels['Milk']}, {labels['Frozen']}.")
        for name in ("Milk", "Frozen"):
            expect(spending_input(page, fields, name)).to_have_attribute("aria-invalid", "true")
            expect(page.locator(".field.invalid").filter(has=spending_input(page, fields, name)).locator(".field-error")).to_have_text(api_words)
        expect(page.locator(".field-error")).to_have_count(2)
        expect(spending_input(page, fields, "Milk")).to_be_focused()
        assert sent == []
        assert accessibility_problems(page) == []

        page.get_by_role("button", name="Clear").click()
        page.get_by_role("button", name="Find the segment").click()
        expect(page.locator(".form-error")).to_have_text(
            "Type the customer's yearly spending in at least one category: the segment is found from the spending.")
        expect(page.locator(".field-error")).to_have_count(0)
        assert sent == []

        # the API's own 422 for a blank (a page that sent one anyway) is shown under the field as before
        watch.expect_status(422)
        page.route("**/api/segment", lambda route: route.continue_(post_data=json.dumps({n: v for n, v in values.items() if n != "Grocery"})))
        fill_customer(page, fields, values)
        page.get_by_role("button", name="Find the segment").click()
        grocery = page.locator(".field.invalid").filter(has=spending_input(page, fields, "Grocery"))
        expect(grocery.locator(".field-error")).to_have_text(api_words)
        expect(page.locator(".form-error")).to_have_text(f"The customer's data is not valid: check {labels['Grocery']}.")
        assert len(sent) == 1


def test_an_error_naming_a_field_not_on_the_form_is_shown_as_the_api_words_it(page: Page, watch: Watch, customers: pd.DataFrame) -> None:
    """An error for a field the form does not have (a newer API's, say; here one named like a JavaScript object
    property) goes above the form as "field: message", not under an input and not as a made-up label."""
    send_answered_by_a_422(page, watch, customers, "constructor", "unknown field")
    expect(page.locator(".form-error p")).to_have_text(["The customer's data is not valid.", "constructor: unknown field"])
    expect(page.locator(".field-error")).to_have_count(0)
    assert accessibility_problems(page) == []
