// Checks that an ontology document is in the OWL 2 DL profile, with the OWL API's profile checker.
// Usage: java -cp CLASSPATH OwlProfileCheck.java FILE   (one document: merge ontology and data first,
// so that every property is declared where it is used). Prints one line per violation and exits 1 if
// there are any; exits 0 when the document is in OWL 2 DL.
import java.io.File;
import org.semanticweb.owlapi.apibinding.OWLManager;
import org.semanticweb.owlapi.model.*;
import org.semanticweb.owlapi.profiles.*;

public class OwlProfileCheck {
    public static void main(String[] args) throws Exception {
        OWLOntologyManager manager = OWLManager.createOWLOntologyManager();
        OWLOntology merged = manager.loadOntologyFromOntologyDocument(new File(args[0]));
        OWLProfileReport report = new OWL2DLProfile().checkOntology(merged);
        report.getViolations().forEach(v -> System.out.println(v));
        System.out.println("axioms=" + merged.getAxiomCount() + " violations=" + report.getViolations().size());
        System.exit(report.isInProfile() ? 0 : 1);
    }
}
