"""Made-up names for the synthetic school, and the identifiers made from them.

First names and surnames are common ones in British schools, grouped by heritage and combined
at random, so no combination is meant to describe anyone. UPNs use the made-up local authority
code 999; emails use the school's `.example.org` domain.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass

UPN_ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ"


@dataclass(frozen=True)
class Heritage:
    """Names that go together in a British school community, and how often EAL goes with them."""

    label: str
    pupil_weight: float
    staff_weight: float
    eal_rate: float
    languages: tuple[str, ...]
    children: tuple[str, ...]
    women: tuple[str, ...]
    men: tuple[str, ...]
    surnames: tuple[str, ...]


def pick_heritage(rng: random.Random, *, staff: bool) -> Heritage:
    weights = [h.staff_weight if staff else h.pupil_weight for h in HERITAGES]
    return rng.choices(HERITAGES, weights=weights)[0]


def make_upn(digits: str) -> str:
    """A UPN: the DfE check letter, then the 12 digits (LA, establishment, year, serial)."""
    total = sum(int(char) * weight for char, weight in zip(digits, range(2, 14), strict=True))
    return UPN_ALPHABET[total % 23] + digits


def unique_email(first: str, last: str, domain: str, taken: set[str]) -> str:
    local = re.sub(r"[^a-z0-9.-]", "", f"{_ascii(first)}.{_ascii(last)}".replace(" ", "-"))
    email, n = f"{local}@{domain}", 1
    while email in taken:
        n += 1
        email = f"{local}{n}@{domain}"
    taken.add(email)
    return email


def staff_code(first: str, last: str, taken: set[str]) -> str:
    f = re.sub(r"[^A-Z]", "", _ascii(first).upper()) or "X"
    s = re.sub(r"[^A-Z]", "", _ascii(last).upper()) or "X"
    candidates = [f[0] + s[:2], f[0] + s[0] + s[-1], f[:2] + s[0]]
    candidates += [f[0] + s[0] + c for c in s[1:]]
    candidates += [f"{f[0]}{s[0]}{n}" for n in range(1, 100)]
    for code in candidates:
        if len(code) == 3 and code not in taken:
            taken.add(code)
            return code
    raise AssertionError("ran out of staff codes")  # pragma: no cover - 100 per initials


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", _ascii(text)).strip("-")


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return folded.lower()


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


HERITAGES: tuple[Heritage, ...] = (
    Heritage(
        label="british",
        pupil_weight=0.62,
        staff_weight=0.8,
        eal_rate=0.01,
        languages=("Welsh",),
        children=_names(
            "Oliver Amelia Jack Isla Harry Olivia Noah Ava Leo Mia Oscar Freya Arthur Lily George "
            "Sophie Theo Grace Alfie Evie Archie Ella Charlie Poppy Jacob Isabella Freddie Emily "
            "Henry Ruby Thomas Daisy Joshua Phoebe William Sienna Finley Millie Ethan Maisie "
            "Mason Hannah Riley Chloe Reuben Erin Rhys Cerys Callum Eilidh Niamh Cian Connor Orla "
            "Kyle Megan Dylan Jade Bethany Lewis Caitlin Ellis Toby Alexander Samuel Matthew "
            "Benjamin Elizabeth Abigail Katherine Jessica Daniel Nathaniel Frederick Theodore "
            "Zachary Lucas Harvey Imogen Scarlett Rosie Elsie Florence Jenson Logan Tilly Harriet "
            "Seren Ffion Iwan Morgan Alex Sam Jamie Ashton"
        ),
        women=_names(
            "Sarah Emma Rachel Claire Laura Helen Nicola Gemma Kate Rebecca Lucy Joanne Amy "
            "Victoria Hannah Siobhan Fiona Rhiannon Katie Louise Jennifer Alison Charlotte "
            "Natalie Stephanie Catherine Eleanor Zoe Ruth Megan Kerry Lisa"
        ),
        men=_names(
            "David James Mark Paul Andrew Richard Simon Stephen Daniel Michael Chris Gareth "
            "Jonathan Ben Matthew Ciaran Alistair Owain Tom Neil Adam Robert Craig Liam Peter Ian "
            "Stuart Sean Rory Lee"
        ),
        surnames=_names(
            "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson "
            "Evans Walker White Roberts Green Hall Wood Jackson Clarke Murphy Kelly O'Brien "
            "McCarthy O'Connor Doyle Byrne Campbell Stewart MacDonald Fraser Reid Morgan Hughes "
            "Price Lewis Jenkins Owen Griffiths Edwards Moore Harris Martin Cooper King Lee Baker "
            "Hill Turner Mitchell Phillips Parker Bennett Carter Collins Cook Morris Rogers Ward "
            "Bailey Bell Marshall Ellis Fletcher Hart Knight Lloyd Mason Palmer Pearce Shaw "
            "Simpson Webb Young Holmes Barnes Chapman Dixon Hunt Kennedy Lawrence Mills Powell "
            "Russell Watson Sutton Armstrong Gallagher Quinn Hamilton-Price Ashworth"
        ),
    ),
    Heritage(
        label="south_asian_muslim",
        pupil_weight=0.08,
        staff_weight=0.04,
        eal_rate=0.55,
        languages=("Urdu", "Bengali", "Punjabi"),
        children=_names(
            "Muhammad Aisha Ibrahim Maryam Yusuf Fatima Ayaan Hafsa Hamza Amira Bilal Safiya Zain "
            "Inaya Rayyan Aleena Zakariya Eshal Musa Noor Idris Anaya Umar Zara Haroon Sumaya "
            "Adam Hana Ismail Mariam Abdullah Khadija Tahmid Nusrat Rahim Jannat"
        ),
        women=_names("Nadia Farah Yasmin Samina Rubina Shazia Saima Nasreen Ayesha Sadia"),
        men=_names("Imran Tariq Asif Faisal Khalid Shahid Nadeem Kamran Rizwan Sajid"),
        surnames=_names(
            "Khan Hussain Ali Ahmed Rahman Islam Uddin Miah Akhtar Iqbal Mahmood Qureshi "
            "Chowdhury Malik Hassan Rashid Aziz Butt"
        ),
    ),
    Heritage(
        label="south_asian_indian",
        pupil_weight=0.06,
        staff_weight=0.05,
        eal_rate=0.45,
        languages=("Gujarati", "Punjabi", "Tamil", "Hindi"),
        children=_names(
            "Arjun Priya Rohan Anika Dev Simran Aarav Ishaan Diya Veer Jasleen Harleen Karan Riya "
            "Anvi Kabir Meera Sai Tara Navdeep Jaspreet Aryan Nikhil Shreya Vihaan Saanvi Krish "
            "Isha"
        ),
        women=_names("Anjali Sunita Pooja Kiran Manpreet Neha Rupinder Deepa Harjit Seema"),
        men=_names("Rajesh Sanjay Vikram Amit Harjinder Sunil Rakesh Jaswinder Arun Deepak"),
        surnames=_names(
            "Patel Singh Sharma Gill Sandhu Shah Mistry Gupta Kumar Dhillon Bains Chauhan Joshi "
            "Parmar Mehta Rai Sidhu Thakkar"
        ),
    ),
    Heritage(
        label="black_african",
        pupil_weight=0.06,
        staff_weight=0.04,
        eal_rate=0.5,
        languages=("Yoruba", "Igbo", "Twi", "Somali"),
        children=_names(
            "Kofi Ama Chidi Adaeze Tobi Ife Precious Kwame Abena Emeka Chiamaka Oluwaseun Favour "
            "David Blessing Daniel Esther Samuel Divine Tolu Yaw Akosua Segun Zainab Nnamdi Amara "
            "Kemi Obinna Efua Jedidiah Deborah"
        ),
        women=_names("Funmi Grace Ngozi Abimbola Akua Nkechi Folake Adwoa Joy Comfort"),
        men=_names("Kwame Olu Chinedu Kofi Emmanuel Babatunde Femi Kwabena Uche Tunde"),
        surnames=_names(
            "Okafor Adeyemi Mensah Osei Okoro Balogun Asante Boateng Adebayo Owusu Nwosu Obi Eze "
            "Appiah Danso Bello Afolabi Agyeman Ogunleye"
        ),
    ),
    Heritage(
        label="black_caribbean",
        pupil_weight=0.04,
        staff_weight=0.03,
        eal_rate=0.0,
        languages=("Jamaican Patois",),
        children=_names(
            "Malachi Tiana Josiah Kiara Marcus Keira Jayden Nia Tyler Aaliyah Isaiah Kai Imani "
            "Elijah Naomi Leon Jada Reggie Amani Tyrese Destiny Micah Zion"
        ),
        women=_names("Marcia Sonia Donna Michelle Paulette Janelle Andrea Beverley"),
        men=_names("Delroy Leon Trevor Winston Andre Clive Marlon Dwayne"),
        surnames=_names(
            "Campbell Brown Francis Grant Clarke Henry Thomas Richards Williams Gordon Reid "
            "Morgan Edwards Bailey Stewart Samuels Powell Lewis James Anderson"
        ),
    ),
    Heritage(
        label="eastern_european",
        pupil_weight=0.07,
        staff_weight=0.02,
        eal_rate=0.85,
        languages=("Polish", "Romanian", "Lithuanian", "Slovak"),
        children=_names(
            "Jakub Zuzanna Kacper Lena Mateusz Oliwia Szymon Maja Filip Julia Antoni Hanna Andrei "
            "Ioana Maria Alexandru Elena Stefan Bianca Lukas Emilija Matas Dominik Natalia Milan "
            "Viktoria Tomas Karolina Nikola Daria"
        ),
        women=_names("Marta Agnieszka Katarzyna Monika Ana Elena Ruta Ewa"),
        men=_names("Piotr Tomasz Marek Adrian Bogdan Mihai Darius Pawel"),
        surnames=_names(
            "Nowak Wójcik Kowalczyk Mazur Krawczyk Zając Król Wieczorek Dudek Kaczmarek Pawlak "
            "Michalak Sikora Baran Popescu Ionescu Popa Dumitru Stan Munteanu Constantin"
        ),
    ),
    Heritage(
        label="east_asian",
        pupil_weight=0.02,
        staff_weight=0.01,
        eal_rate=0.6,
        languages=("Mandarin", "Cantonese", "Vietnamese"),
        children=_names(
            "Wei Mei Jun Yu Hao Xin Ethan Chloe Ryan Grace Minh Linh Anh Bao Jia Kai Hana Yuki"
        ),
        women=_names("Mei Ling Hui Yan Thuy"),
        men=_names("Wei Jian Ming Hoang Tuan"),
        surnames=_names("Chen Wong Li Zhang Nguyen Tran Liu Wang Lam Huang Le Pham Yang Ho"),
    ),
    Heritage(
        label="turkish_kurdish_arab",
        pupil_weight=0.03,
        staff_weight=0.01,
        eal_rate=0.7,
        languages=("Turkish", "Kurdish", "Arabic"),
        children=_names(
            "Elif Emre Yusuf Zeynep Mehmet Ayla Deniz Kerem Lina Omar Sara Karim Layla Rami Nour "
            "Ali Jana Ahmad Hiba Sami"
        ),
        women=_names("Ayse Leyla Rania Dilan Huda"),
        men=_names("Mustafa Hasan Ahmed Serkan Yasin"),
        surnames=_names(
            "Yilmaz Demir Kaya Sahin Celik Ozturk Aydin Arslan Haddad Mansour Saleh Abdullah "
            "Hamid Ibrahim Karim"
        ),
    ),
    Heritage(
        label="southern_european_latin",
        pupil_weight=0.02,
        staff_weight=0.01,
        eal_rate=0.6,
        languages=("Portuguese", "Spanish", "Italian"),
        children=_names(
            "Luca Sofia Mateo Giulia Tomás Inês Diego Lucía Gabriel Beatriz Rafael Chiara "
            "Leonardo Marta Santiago Valentina"
        ),
        women=_names("Ana Francesca Carmen Rita Lucia"),
        men=_names("Marco Luis João Javier Paolo"),
        surnames=_names(
            "Rossi Silva Santos Ferreira Costa Garcia Fernandes Romano Martinez Lopez Oliveira "
            "Pereira Esposito Russo"
        ),
    ),
)

PREFERRED_NAMES = {
    "Alexander": "Alex",
    "Samuel": "Sam",
    "Thomas": "Tom",
    "William": "Will",
    "Joshua": "Josh",
    "Nathaniel": "Nate",
    "Isabella": "Bella",
    "Elizabeth": "Lizzie",
    "Abigail": "Abi",
    "Matthew": "Matt",
    "Benjamin": "Ben",
    "Katherine": "Katie",
    "Jessica": "Jess",
    "Daniel": "Danny",
    "Frederick": "Freddie",
    "Theodore": "Theo",
    "Zachary": "Zach",
    "Muhammad": "Mo",
    "Oluwaseun": "Seun",
    "Adaeze": "Ada",
    "Zuzanna": "Zuzia",
    "Alexandru": "Alex",
    "Abdullah": "Abdul",
    "Zakariya": "Zak",
    "Gabriel": "Gabe",
    "Santiago": "Santi",
    "Leonardo": "Leo",
    "Jedidiah": "Jed",
    "Harriet": "Hattie",
    "Florence": "Flo",
    "Valentina": "Tina",
    "Ishaan": "Ish",
}
